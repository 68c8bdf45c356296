"""The product's one version number: the installed distribution's, set in ``pyproject.toml``."""

from __future__ import annotations

from importlib.metadata import version

VERSION = version("ioc-backend")
