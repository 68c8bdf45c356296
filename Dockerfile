# One image for every stage: `ioc serve`, `ioc ingest`, `ioc simulate`, `ioc db upgrade`.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv
WORKDIR /srv/ioc
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 ioc
WORKDIR /srv/ioc
COPY --from=build --chown=ioc:ioc /srv/ioc /srv/ioc
ENV PATH="/srv/ioc/.venv/bin:$PATH" IOC_API_HOST=0.0.0.0
USER ioc
EXPOSE 8000
CMD ["ioc", "serve"]
