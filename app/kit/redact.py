"""Keys never reach a log: a logging filter that masks ``api_key=…`` in any record.

uvicorn's access log writes each request's path *with* its query string, and browsers'
``EventSource`` can only send a key as ``?api_key=``; the filter rewrites the record before
any handler formats it, whatever log configuration uvicorn was started with.
"""

from __future__ import annotations

import logging
import re

SECRET_PARAM = re.compile(r"((?:^|[?&\s])api_key=)[^&\s\"']*", re.IGNORECASE)
MASK = "***"
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "fastapi", "")


def redact(text: str) -> str:
    return SECRET_PARAM.sub(rf"\g<1>{MASK}", text)


class RedactKeys(logging.Filter):
    """Masks ``api_key`` query values in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def install() -> None:
    """Attach the filter to the loggers that may see a URL (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactKeys) for f in logger.filters):
            logger.addFilter(RedactKeys())
