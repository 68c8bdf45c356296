"""The interactive API docs (``/docs``: Swagger UI, ``/redoc``: ReDoc) from the API's own
files, so they work on a closed government network with no CDN in reach.

The pages are written here rather than by FastAPI's helpers, which inline Swagger UI's start
script: with the start script a file too, the docs run under the same strict
Content-Security-Policy as every other page (scripts and styles from this origin only).
The vendored versions and their sources are listed in ``app/static/vendor/README.md``.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.kit.security import PAGE_POLICY

STATIC = Path(__file__).with_name("static")
PREFIX = "/static"
SWAGGER = f"{PREFIX}/vendor/swagger-ui"
REDOC = f"{PREFIX}/vendor/redoc"

_SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{swagger}/swagger-ui.css">
<link rel="icon" type="image/png" href="{swagger}/favicon-32x32.png">
</head>
<body data-openapi="{openapi}">
<div id="swagger-ui"></div>
<script src="{swagger}/swagger-ui-bundle.js"></script>
<script src="{prefix}/docs/swagger-init.js"></script>
</body>
</html>
"""

_REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{swagger}/favicon-32x32.png">
</head>
<body>
<redoc spec-url="{openapi}"></redoc>
<script src="{redoc}/redoc.standalone.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)
NO_CACHE = {"Cache-Control": "no-cache"}
REDOC_STYLES = (
    "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc=",
)
"""The two <style> elements ReDoc's bundle adds as it loads, admitted by their exact
content: an empty one its styled components then fill through the CSSOM (which a policy
does not govern), and its fixed base style sheet. ReDoc sets a nonce only once rendering
starts, after these exist, so hashes rather than a nonce; a changed bundle shows as
console errors in the docs' browser test."""


def _page(template: str, request: Request, suffix: str) -> str:
    app: FastAPI = request.app
    return template.format(
        title=escape(f"{app.title} - {suffix}"),
        openapi=escape(app.openapi_url or "/openapi.json"),
        prefix=PREFIX,
        swagger=SWAGGER,
        redoc=REDOC,
    )


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return HTMLResponse(_page(_SWAGGER_PAGE, request, "Swagger UI"), headers=NO_CACHE)


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    policy = PAGE_POLICY.format(scripts="", styles="".join(f" '{h}'" for h in REDOC_STYLES))
    policy += "; worker-src blob:"  # ReDoc's search index runs in a worker it makes itself
    return HTMLResponse(
        _page(_REDOC_PAGE, request, "ReDoc"),
        headers={**NO_CACHE, "Content-Security-Policy": policy},
    )


def install(app: FastAPI) -> None:
    """Serve the docs pages and ``/static`` (the vendored assets and the docs' own script).
    The app must be made with ``docs_url=None, redoc_url=None``."""
    app.include_router(router)
    app.mount(PREFIX, StaticFiles(directory=STATIC), name="static")
