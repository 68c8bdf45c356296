"""The built wheel is the product: installed on its own, it migrates a database and reports
the version of ``pyproject.toml``. Slow (builds and installs): marker ``deploy``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.test_cli_failures import empty_database  # noqa: F401  (fixture)

pytestmark = pytest.mark.deploy
ROOT = Path(__file__).resolve().parent.parent


def _uv(*args: str, cwd: Path) -> None:
    """uv as `./run` finds it (a `uv` on PATH, else python3's module)."""
    uv = shutil.which("uv")
    command = [uv] if uv else ["python3", "-m", "uv"]
    done = subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_installed_wheel_migrates_and_knows_its_version(
    tmp_path: Path,
    empty_database: str,  # noqa: F811
) -> None:
    _uv("build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(ROOT), cwd=ROOT)
    (wheel,) = (tmp_path / "dist").glob("ioc_backend-*.whl")
    venv = tmp_path / "venv"
    _uv("venv", "--python", sys.executable, str(venv), cwd=tmp_path)
    _uv("pip", "install", "--python", str(venv / "bin" / "python"), str(wheel), cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env["IOC_DATABASE_URL"] = empty_database
    outside = tmp_path / "elsewhere"  # no checkout, no alembic.ini around
    outside.mkdir()
    upgrade = subprocess.run(
        [str(venv / "bin" / "ioc"), "db", "upgrade"],
        cwd=outside, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    assert "schema at head" in upgrade.stdout
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "from app.main import create_app; print(create_app('postgresql://x/y').version)"],
        cwd=outside, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # The API docs' vendored assets ship in the wheel (a closed network has no CDN).
    shipped = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "from app.apidocs import STATIC; "
         "print(all((STATIC / p).is_file() for p in ('vendor/swagger-ui/swagger-ui-bundle.js', "
         "'vendor/swagger-ui/swagger-ui.css', 'vendor/redoc/redoc.standalone.js', "
         "'docs/swagger-init.js')))"],
        cwd=outside, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert shipped == "True"
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert version == declared
