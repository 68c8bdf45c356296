"""The console log's tracebacks: plain text, no frame's local variables (they took seconds
to draw on the event loop and printed whatever the frames held)."""

from __future__ import annotations

import pytest
import structlog

from ioc import logs


def test_a_logged_exception_is_a_plain_traceback_without_locals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("INFO")
    secret = "key-that-must-not-be-printed"  # noqa: F841 - a local the traceback must not show
    try:
        raise ValueError("the database went away")
    except ValueError:
        structlog.get_logger().exception("evaluation failed")
    out = capsys.readouterr().out
    assert "evaluation failed" in out
    assert "Traceback (most recent call last):" in out
    assert "ValueError: the database went away" in out
    assert "key-that-must-not-be-printed" not in out
    assert "╭" not in out  # no drawn boxes
