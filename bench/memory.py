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


def postmaster(database_url: str) -> psutil.Process | None:
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


def api_processes() -> list[psutil.Process]:
    """The API child (``ioc serve``) and, with ``--processes N``, the API processes it runs."""
    me = psutil.Process()
    servers = [c for c in me.children(recursive=True) if "serve" in (c.cmdline() or [])]
    return [*servers, *(c for s in servers for c in s.children(recursive=True))]


def peaks(database_url: str) -> dict[str, Any]:
    me = psutil.Process()
    out: dict[str, Any] = {"benchmark_process_mb": _peak_mb(me)}
    servers = api_processes()
    out["api_process_mb"] = max((m for c in servers if (m := _peak_mb(c))), default=None)
    server = postmaster(database_url)
    if server is not None:
        backends = [m for c in server.children() if (m := _peak_mb(c)) is not None]
        out["postgres_postmaster_mb"] = _peak_mb(server)
        out["postgres_largest_backend_mb"] = max(backends, default=None)
        out["postgres_processes"] = len(backends) + 1
    return out


def cpu_seconds(database_url: str) -> dict[str, dict[int, float]]:
    """CPU seconds used so far by each process of the API child (``ioc serve``) and of the
    PostgreSQL server (postmaster and the backends alive now), by pid: taken before and after
    a load, :func:`cpu_spent` says where its cost went, whatever else the machine runs."""
    api = api_processes()
    server = postmaster(database_url)
    pg = [server, *server.children()] if server is not None else []
    return {"api": _spent(api), "postgres": _spent(pg)}


def cpu_spent(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    """Seconds each side used between two :func:`cpu_seconds`; a process that started in
    between counts whole, one that ended in between is lost (a pool's backends stay)."""
    return {
        side: sum(t - before[side].get(pid, 0.0) for pid, t in now.items())
        for side, now in after.items()
    }


def _spent(procs: list[psutil.Process]) -> dict[int, float]:
    out = {}
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[proc.pid] = float(times.user + times.system)
    return out
