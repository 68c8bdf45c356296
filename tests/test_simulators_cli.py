"""``ioc simulate`` end to end into a file: options, faults, summary."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from ioc.cli import app
from models.settings import get_settings
from tests.test_simulators_replay import RECORDED, _consume_all


def test_simulate_writes_the_chosen_streams_with_faults_and_sums_them_up(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl.gz"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--from", "2025-03-03T08:00+07:00",
            "--to", "2025-03-03T10:00+07:00",
            "--streams", "tourism,citizen",
            "--seed", "4",
            "--sink", "file",
            "--out", str(out),
            "--fault", "duplicates=0.05",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = gzip.decompress(out.read_bytes()).splitlines()
    types = {orjson.loads(line)["type"].split(".")[3] for line in lines}
    assert types == {"tourism", "citizen"}
    assert "fault: duplicates" in result.output
    assert f"{len(lines):,}" in result.output  # messages sent, duplicates included


def test_simulate_refuses_unknown_streams_and_faults(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["simulate", "--from", "2025-03-03", "--to", "2025-03-04", "--sink", "file"]
    base += ["--out", str(tmp_path / "x.jsonl")]
    bad_stream = runner.invoke(app, [*base, "--streams", "weather"])
    assert bad_stream.exit_code == 2
    assert "unknown stream weather" in bad_stream.output
    bad_fault = runner.invoke(app, [*base, "--fault", "gremlins=0.1"])
    assert bad_fault.exit_code == 2
    assert "unknown fault" in bad_fault.output


@pytest.mark.integration
def test_replay_command_sends_the_recording_to_the_broker(
    kafka_bootstrap: str, topic_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("IOC_TOPIC_PREFIX", topic_prefix)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["replay", str(RECORDED)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "7,245 messages replayed" in result.output
    got = asyncio.run(_consume_all(kafka_bootstrap, topic_prefix, 7_245))
    assert len(got) == 7_245
