"""The results as a Markdown table, each figure beside its target and the peers' figures."""

from __future__ import annotations

from typing import Any

PEERS = {
    "ingest": "ThingsBoard on PostgreSQL 5,000–10,000 data points/s; "
    "FIWARE QuantumLeap 44–274 msgs/s",
    "query": "DHIS2 105–250 ms per single-indicator analytics query",
}


Row = tuple[str, str, str, str]


def markdown(r: dict[str, Any]) -> str:
    """Every stage the run measured; a run on data already loaded (``--loaded``) has no
    ceiling, simulate, ingest or span rows."""
    rows = _machine(r["machine"], r.get("settings", {}).get("api_processes", 1))
    if "ingest" in r:
        rows += _load(r)
    rows += _serve(r)
    lines = ["| figure | measured | ratio | peers |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines) + "\n"


def _machine(m: dict[str, Any], api_processes: int) -> list[Row]:
    return [
        (
            "machine",
            f"{m['cpus']} × {m['cpu']}, {m['memory_gb']} GB, PostgreSQL {m['postgresql']}, "
            f"Python {m['python']}; load average {m['load_average_at_start'][0]:.1f} at start, "
            f"{m['load_average_at_end'][0]:.1f} at end; "
            f"API processes: {api_processes}",
            "",
            "",
        )
    ]


def _load(r: dict[str, Any]) -> list[Row]:
    lim, ing, yr = r["limits"], r["ingest"], r["year"]
    return [
        (
            "ceiling: decode / consume + decode (broker) / COPY",
            f"{lim['decode_per_s']:,} msgs/s / {_or_dash(lim.get('consume_decode_per_s'))} "
            f"msgs/s / {lim['copy_rows_per_s']:,} rows/s",
            f"ceiling {lim['ceiling_per_s']:,}/s",
            "",
        ),
        ("simulate", f"{r['simulate']['events_per_s']:,} events/s", "", ""),
        *_pipeline(r.get("pipeline")),
        (
            "ingest, one writer, in-process (no broker)",
            f"{ing['events_per_s']:,} events/s",
            f"{ing['ratio_to_ceiling']:.2f} × ceiling (target ≥ 0.6)",
            PEERS["ingest"],
        ),
        (
            "span loaded",
            f"{yr['days']} days at scale {yr['scale']}: {yr['events']:,} events in "
            f"{yr['seconds']} s (province-year, extrapolated: "
            f"{yr['extrapolated_province_year_seconds']} s)",
            "target < 600 s for a province-year",
            "",
        ),
    ] + [
        (
            f"growth: {g['days']} days",
            f"{g['events']:,} events; ingest {g['ingest_events_per_s']:,}/s; "
            f"query p95 {g['query_p95_ms']} ms",
            "",
            "",
        )
        for g in r["growth"]
    ]


def _or_dash(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def _pipeline(p: dict[str, Any] | None) -> list[Row]:
    """simulate → broker → one ingest worker, when the run sent days through the broker."""
    if not p:
        return []
    ing = p["ingest"]
    return [
        (
            f"pipeline end to end: {p['days']} day(s) at scale {p['scale']} through the "
            "broker to one ingest worker",
            f"{p['events']:,} events; simulate + produce {p['simulate_and_produce_per_s']:,}/s; "
            f"ingest {ing['events_per_s']:,} events/s ({ing['stored']:,} stored, "
            f"{ing['rejected']} rejected; group join and first fetch "
            f"{ing['join_seconds']} s)",
            f"{ing['ratio_to_ceiling']:.2f} × ceiling (target ≥ 0.6)",
            PEERS["ingest"],
        )
    ]


def _queries(q: dict[str, Any], how: str) -> list[Row]:
    many = q["concurrent"]
    return [
        (
            f"query p95, one client ({how})",
            f"{q['p95_ms']} ms{_cpu(q.get('one_client', {}))}",
            f"{q['p95_ms'] / 50:.2f} × 50 ms target",
            PEERS["query"],
        ),
        (
            f"query p95, {many['clients']} clients ({how})",
            f"{many['p95_ms']} ms "
            f"({many['requests_per_s']} req/s, {many['non_2xx']} non-2xx, "
            f"{many['socket_errors']} socket errors){_cpu(many)}",
            f"{many['p95_ms'] / 250:.2f} × 250 ms target",
            "",
        ),
    ]


def _cpu(load: dict[str, Any]) -> str:
    """What a request cost each side in CPU, when measured (throughput on a shared machine
    moves with its neighbours, this moves only with the code), and how many answers were
    computed rather than served from memory during the load."""
    out = ""
    if cpu := load.get("cpu_ms_per_request"):
        out += f"; CPU per request: API {cpu['api']} ms, PostgreSQL {cpu['postgres']} ms"
    if answers := {k: n for k, n in load.get("answers", {}).items() if n}:  # none: cache off
        out += f"; {answers.get('computed', 0)} answers computed, {answers.get('kept', 0)} kept"
    return out


def _serve(r: dict[str, Any]) -> list[Row]:
    sse, live = r["sse"], r["sse_live"]
    rows = _queries(r["query"], "as deployed: settled answers kept")
    if fed := r["query"].get("under_feed"):
        rows.append(
            (
                f"query p95, {fed['clients']} clients, as deployed, under a live feed (a batch "
                f"every {fed['feed_interval_s']} s, {fed['feed_batches']} committed)",
                f"{fed['p95_ms']} ms (p50 {fed['p50_ms']} ms, {fed['requests_per_s']} req/s, "
                f"{fed['non_2xx']} non-2xx){_cpu(fed)}",
                f"{fed['p95_ms'] / 250:.2f} × 250 ms target",
                "",
            )
        )
    if "query_computed" in r:
        rows += _queries(r["query_computed"], "every answer computed afresh")
    rows += [
        (
            f"SSE commit → client p95, {sse['clients']} clients",
            f"{sse['p95_ms']} ms, p50 {sse['p50_ms']} ms (write → client p95 "
            f"{sse['write_p95_ms']} ms; {sse['missed']} missed, {sse['resets']} resets)",
            f"{sse['p95_ms'] / 1000:.2f} × 1 s target",
            "",
        ),
        (
            f"SSE commit → client p95 under a live feed (a batch every "
            f"{live['interval_s']} s), {live['clients']} clients",
            f"{live['p95_ms']} ms, p50 {live['p50_ms']} ms ({live['missed']} missed)",
            f"{live['p95_ms'] / 1000:.2f} × 1 s target",
            "",
        ),
        ("database", f"{r['database_mb']} MB", "", ""),
        ("peak memory (VmHWM)", _memory(r.get("memory", {})), "", ""),
    ]
    return rows


def _memory(m: dict[str, Any]) -> str:
    parts = [
        f"benchmark (simulate + writer) {m.get('benchmark_process_mb')} MB",
        f"API {m.get('api_process_mb')} MB",
    ]
    if "postgres_postmaster_mb" in m:
        parts.append(
            f"PostgreSQL postmaster {m['postgres_postmaster_mb']} MB, largest of "
            f"{m['postgres_processes'] - 1} other server processes "
            f"{m['postgres_largest_backend_mb']} MB "
            "(shared buffers included)"
        )
    return "; ".join(parts)
