# Build stage: install wiredesk and its pinned dependencies into a virtualenv.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml constraints.txt README.md ./
COPY wiredesk ./wiredesk
COPY extractors ./extractors
COPY fetching ./fetching
COPY dedup ./dedup
COPY storage ./storage
COPY flows ./flows
COPY config ./config
RUN /opt/venv/bin/pip install -c constraints.txt ".[dask]"

# Runtime stage: the virtualenv, the sample pages and the Prefect deployment file only.
FROM python:3.11-slim
RUN useradd --create-home --uid 1000 wiredesk
COPY --from=build /opt/venv /opt/venv
COPY samples /app/samples
COPY prefect.yaml /app/prefect.yaml
ENV PATH=/opt/venv/bin:$PATH \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    WIREDESK_STORE__URL=/data/wiredesk.db \
    WIREDESK_EXPORT__OUT=/data/corpus.jsonl
WORKDIR /app
RUN mkdir /data && chown wiredesk /data
USER wiredesk
VOLUME ["/data"]
ENTRYPOINT ["wiredesk"]
# The demo; for a Prefect worker: docker run IMAGE ... with --entrypoint prefect worker start --pool NAME
CMD ["run", "--input", "/app/samples", "--manifest", "/app/samples/html/meta.jsonl"]
