"""Serve the wall page. It is static; its data comes from the API and the live stream,
so the page needs no build step and any browser on the control-room network can show it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["wall"])
PAGE = Path(__file__).with_name("wall.html")


@cache
def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


@router.get("/wall", response_class=HTMLResponse, include_in_schema=False)
async def wall() -> HTMLResponse:
    """The wall display: headline indicators, district ranking, alerts, all live.

    Open ``/wall?api_key=KEY`` with an operator key to see alerts and source status too.
    """
    return HTMLResponse(_page(), headers={"Cache-Control": "no-cache"})
