"""Peak memory of each process of the run (issue targets ask for it beside the year's time).

Read from Linux's ``VmHWM`` (the resident set's high-water mark) at the end of the run: the
benchmark process itself (simulate and the writer), the API child (``ioc serve``) and the
PostgreSQL server answering the URL (its postmaster, found by the socket folder or port the
URL names, and its backends). A backend's figure includes the shared buffers it touched, so
the backends' peaks are not summed: the largest is given, with how many there were.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import psutil


def _peak_mb(proc: psutil.Process) -> float | None:
    try:
        with open(f"/proc/{proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _postmaster(database_url: str) -> psutil.Process | None:
    """The PostgreSQL server process listening where the URL points: ``-k <socket dir>`` or
    ``-p <port>`` on its command line (an embedded or ``.ci`` server), else none."""
    url = urlparse(database_url)
    host = (parse_qs(url.query).get("host") or [url.hostname or ""])[0]
    port = str(url.port or 5432)
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmd = proc.info["cmdline"] or []
        if proc.info["name"] != "postgres" or "-D" not in cmd:
            continue
        if (host.startswith("/") and host in cmd) or ("-p" in cmd and port in cmd):
            return proc
    return None


def peaks(database_url: str) -> dict[str, Any]:
    me = psutil.Process()
    out: dict[str, Any] = {"benchmark_process_mb": _peak_mb(me)}
    servers = [c for c in me.children(recursive=True) if "serve" in (c.cmdline() or [])]
    out["api_process_mb"] = max((m for c in servers if (m := _peak_mb(c))), default=None)
    postmaster = _postmaster(database_url)
    if postmaster is not None:
        backends = [m for c in postmaster.children() if (m := _peak_mb(c)) is not None]
        out["postgres_postmaster_mb"] = _peak_mb(postmaster)
        out["postgres_largest_backend_mb"] = max(backends, default=None)
        out["postgres_processes"] = len(backends) + 1
    return out
