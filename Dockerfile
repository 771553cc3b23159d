# wiredesk: the CLI, the Prefect flows and a Prefect worker in one image.
#
#   docker build -t wiredesk .                       # or, without Docker Hub:
#   ../shared/tools/docker-build-local.sh            #   podman on a local Debian base image
#   docker run --rm -v "$PWD/data:/data" wiredesk     # the demo: the bundled samples into ./data
#
# Every FROM uses PYTHON_IMAGE, so the base can be swapped (a mirror, a local Debian + python3).
ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: a virtualenv with wiredesk and its pinned dependencies ---------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
# Debian's pip 23 cannot install lxml's [html-clean] extra: upgrade pip before anything else.
RUN python3 -m venv /opt/venv && /opt/venv/bin/python -m pip install --upgrade "pip>=24"
WORKDIR /src
# Dependencies first, in their own layer: a change to wiredesk's code does not reinstall them.
COPY pyproject.toml constraints.txt ./
RUN /opt/venv/bin/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
print("\n".join(p["dependencies"] + p["optional-dependencies"]["dask"]))' > requirements.txt \
 && /opt/venv/bin/pip install -c constraints.txt -r requirements.txt
COPY README.md ./
COPY wiredesk ./wiredesk
COPY config ./config
COPY extractors ./extractors
COPY fetching ./fetching
COPY dedup ./dedup
COPY storage ./storage
COPY flows ./flows
# A regular (non-editable) install: the wheel holds the one package wiredesk, stage folders mapped in.
RUN /opt/venv/bin/pip install --no-deps -c constraints.txt ".[dask]" && /opt/venv/bin/pip check
COPY docker/slim-venv.sh ./
RUN sh slim-venv.sh /opt/venv

# ---- runtime: the virtualenv, the samples and prefect.yaml; no compiler, no pip ----------------
FROM ${PYTHON_IMAGE}
ARG UID=1000
# tini: an init for PID 1 (a Python PID 1 ignores `docker stop`'s SIGTERM and reaps no zombies).
# No pip in the runtime: the base image's own pip (and the wheels ensurepip would install) go too.
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && rm -rf /usr/local/bin/pip* /usr/local/lib/python3*/site-packages/pip* /usr/share/python-wheels \
      /usr/local/lib/python3*/ensurepip/_bundled /usr/lib/python3*/ensurepip/_bundled \
 && useradd --create-home --uid "${UID}" --user-group wiredesk \
 && mkdir -p /data && chown "${UID}:0" /data && chmod 2775 /data
COPY --from=build /opt/venv /opt/venv
COPY samples /app/samples
COPY prefect.yaml /app/prefect.yaml
# /usr/local/bin/wiredesk (and prefect) is docker/entrypoint.sh: as root it hands /data to the
# wiredesk user and drops to it; as any other user it runs /opt/venv/bin/wiredesk directly; as
# PID 1 it runs under tini. `prefect server start` writes its UI files to /tmp, not into the venv.
COPY docker/entrypoint.sh /usr/local/bin/wiredesk
COPY docker/healthcheck.py /opt/venv/lib/wiredesk-healthcheck.py
RUN ln -s wiredesk /usr/local/bin/prefect
ENV PATH=/usr/local/bin:/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WIREDESK_STORE__URL=/data/wiredesk.db \
    WIREDESK_EXPORT__OUT=/data/corpus.jsonl \
    PREFECT_HOME=/data/prefect \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    PREFECT_UI_STATIC_DIRECTORY=/tmp/prefect-ui \
    PREFECT_RUNNER_SERVER_ENABLE=true \
    PREFECT_RUNNER_SERVER_HOST=127.0.0.1 \
    PREFECT_RUNNER_SERVER_PORT=8080
WORKDIR /app
VOLUME ["/data"]
# `wiredesk serve` answers on the runner's /health (polled recently); a worker started with
# --with-healthcheck on its own; any other command (the demo, `wiredesk run`) is healthy while it runs.
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 \
  CMD ["/opt/venv/bin/python", "/opt/venv/lib/wiredesk-healthcheck.py"]
ENTRYPOINT ["wiredesk"]
# The demo. Any other arguments are a wiredesk command line; a worker: --entrypoint prefect
# IMAGE worker start --pool wiredesk (compose.yaml).
CMD ["run", "--input", "/app/samples", "--manifest", "/app/samples/html/meta.jsonl"]
