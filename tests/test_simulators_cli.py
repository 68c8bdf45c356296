"""``ioc simulate`` end to end into a file: options, faults, summary."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
from typer.testing import CliRunner

from ioc.cli import app


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
