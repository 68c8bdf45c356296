"""A broker outage longer than a minute with the simulator, the HTTP gateway and two ingest
workers running. The broker is an Apache Kafka 2.3.0 of the test's own (``.ci/kafka.sh`` in
a state directory of its own), whose broker JVM is stopped and started again on the same
port and log directories; ZooKeeper stays up.

The gateway must answer every post (503 while the broker is down, never 500, never a hang),
the workers must not exit, the simulator must either wait the outage out or report what it
delivered and finish on a rerun; in the end every unique event is stored once."""

from __future__ import annotations

import asyncio
import gzip
import re
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.topics import ensure_topics
from tests.faults.checks import Checks
from tests.faults.conftest import ADMIN_KEY, ioc_env
from tests.faults.http import Tally
from tests.faults.ledger import Doc, Ledger, Workload, differences_after_drain, wait_stored
from tests.faults.services import IOC, OwnKafka, fleet

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 65
SIMULATED_HOURS = 60
SIM_ARGS = ["--seed", "5", "--scale", "0.2"]


def _simulated_range() -> tuple[str, str]:
    start = (datetime.now(UTC) - timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    return start.isoformat(), (start + timedelta(hours=SIMULATED_HOURS)).isoformat()


def _expected_simulation(out: Path, env: dict[str, str], span: tuple[str, str]) -> list[Doc]:
    """The same seed and range into a file: byte for byte what the Kafka run sends."""
    to_file = ["--sink", "file", "--out", str(out)]
    subprocess.run(
        [IOC, "simulate", "--from", span[0], "--to", span[1], *SIM_ARGS, *to_file],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with gzip.open(out) as lines:
        return [orjson.loads(line) for line in lines]


def _reported_delivered(output: str) -> int | None:
    match = re.search(r"messages delivered\D{0,20}([\d,]+)", output)
    return int(match.group(1).replace(",", "")) if match else None


def _resume_from(output: str) -> str | None:
    match = re.search(r"resume with --from (\S+)", output)
    return match.group(1) if match else None


async def test_a_broker_outage_is_waited_out_by_simulator_gateway_and_workers(
    fault_db: tuple[str, AsyncEngine], prefix: str, tmp_path: Path
) -> None:
    url, engine = fault_db
    ledger, load, checks = Ledger(), Workload(seed=13), Checks()
    span = _simulated_range()
    posts, outage, unanswered = Tally(), Tally(), []
    with OwnKafka(tmp_path / "kafka") as kafka:
        env = ioc_env(url, kafka.bootstrap, prefix)
        expected = await asyncio.to_thread(
            _expected_simulation, tmp_path / "expected.jsonl.gz", env, span
        )
        ledger.record_all(expected)
        await ensure_topics(kafka.bootstrap, prefix, 3)
        with fleet(tmp_path, env) as ioc:
            workers = [ioc.worker("worker-1"), ioc.worker("worker-2")]
            _, base = ioc.serve()
            simulate = [IOC, "simulate", "--from", span[0], "--to", span[1], *SIM_ARGS]
            paced = [*simulate[1:], "--sink", "kafka", "--speed", "3600"]
            simulator = ioc.spawn("simulator", paced)
            async with httpx.AsyncClient(base_url=base, timeout=15) as http:

                async def post(docs: list[Doc], tally: Tally) -> int:
                    answer = await tally.request(
                        http, "POST", "/api/v1/events", json=docs, headers={"X-API-Key": ADMIN_KEY}
                    )
                    if answer is not None and answer.status_code == 200:
                        ledger.record_all(docs)
                        return 200
                    unanswered.append(docs)  # a client resends the batch later
                    if answer is not None and answer.status_code == 503:
                        checks.expect(answer.headers.get("Retry-After"), "503 without Retry-After")
                    return answer.status_code if answer is not None else 0

                sim_keys = {(d["source"], d["id"]) for d in expected}
                for _ in range(60):  # until the simulator's first events are stored
                    await post(load.batch(50), posts)
                    if await _stored_of(engine, sim_keys):
                        break
                    await asyncio.sleep(0.5)
                await asyncio.to_thread(kafka.stop_broker)
                down = time.monotonic()
                while time.monotonic() - down < OUTAGE_SECONDS:
                    await post(load.batch(50), outage)
                    await asyncio.sleep(1)
                gone = [w.name for w in workers if not w.alive()]
                checks.expect(not gone, f"workers exited during the broker outage: {gone}")
                await asyncio.to_thread(kafka.start_broker)

                try:
                    first_exit = await asyncio.to_thread(simulator.popen.wait, 300)
                except subprocess.TimeoutExpired:
                    simulator.popen.kill()
                    raise AssertionError("the simulator did not finish within 300 s") from None
                first_output = simulator.log.read_text(errors="replace")
                for _ in range(200):
                    if not unanswered:
                        break
                    if await post(unanswered.pop(0), posts) != 200:
                        await asyncio.sleep(1)

            if first_exit != 0:
                # it gave up: what it says it delivered must be in the store, and a rerun of
                # the same range (deduplicated) finishes the job
                await wait_stored(engine, len(ledger.unique), "the broker's events", stalled=20)
                stored_sim = await _stored_of(engine, sim_keys)
                delivered = _reported_delivered(first_output)
                checks.expect(
                    delivered is not None and 0 < delivered <= stored_sim,  # acked ⇒ stored
                    f"the simulator exited {first_exit} reporting {delivered} delivered; "
                    f"{stored_sim} of its {len(sim_keys)} events are stored",
                )
                resume = _resume_from(first_output)
                checks.expect(resume, "the simulator did not say where to resume")
                again = [IOC, "simulate", "--from", resume or span[0], "--to", span[1], *SIM_ARGS]
                rerun = await asyncio.to_thread(
                    subprocess.run,
                    [*again, "--sink", "kafka"],
                    env=ioc.env,
                    capture_output=True,
                    timeout=180,
                )
                checks.expect(rerun.returncode == 0, f"the resumed run exited {rerun.returncode}")
            checks.expect(
                "exception was never retrieved" not in first_output,
                "the simulator printed 'Future exception was never retrieved' "
                f"{first_output.count('exception was never retrieved')} times",
            )
            problems = await differences_after_drain(engine, ledger)
            checks.expect(not problems, f"store vs unique events sent: {problems}")
            gone = [w.name for w in workers if not w.alive()]
            checks.expect(not gone, f"workers not running at the end: {gone}")
    checks.expect(not unanswered, f"{len(unanswered)} batches never taken after the outage")
    checks.expect(
        set(outage.statuses) == {503},
        f"gateway answers while the broker was down: {dict(outage.statuses)} {outage.examples}",
    )
    checks.expect(
        not {0, 500} & set(posts.statuses),
        f"gateway answers with the broker up: {dict(posts.statuses)} {posts.examples}",
    )
    checks.assert_all()


async def _stored_of(engine: AsyncEngine, keys: set[tuple[str, str]]) -> int:
    from sqlalchemy import text

    from tests.faults.ledger import EVENT_TABLE

    found = 0
    async with engine.connect() as conn:
        for table in set(EVENT_TABLE.values()):
            rows = (await conn.execute(text(f"SELECT source, event_id::text FROM {table}"))).all()
            found += len({(r[0], r[1]) for r in rows} & keys)
    return found
