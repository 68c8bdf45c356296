# syntax=docker/dockerfile:1
# One image for every stage: `ioc serve`, `ioc ingest`, `ioc simulate`, `ioc db upgrade`.
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /srv/ioc
# Dependencies first (cached while only the code changes), then the project itself.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project
COPY pyproject.toml uv.lock README.md alembic.ini ./
COPY alembic ./alembic
COPY app ./app
COPY ingest ./ingest
COPY ioc ./ioc
COPY models ./models
COPY simulators ./simulators
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 ioc
WORKDIR /srv/ioc
COPY --from=build --chown=ioc:ioc /srv/ioc/.venv /srv/ioc/.venv
ENV PATH="/srv/ioc/.venv/bin:$PATH" IOC_API_HOST=0.0.0.0 IOC_DATA_DIR=/tmp/ioc-data
USER ioc
EXPOSE 8000
CMD ["ioc", "serve"]
