# channelsync daemon image: install into a virtualenv in a build stage, copy only that
# virtualenv into a slim runtime, run as a non-root user. No wheel files are left in a layer.
# The base image is pinned to an exact Python and Debian release; pin its digest too
# (python:3.12.8-slim-bookworm@sha256:…) where your registry policy asks for it.
FROM python:3.12.8-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY channelsync ./channelsync
COPY plugins ./plugins
RUN python -m venv /opt/channelsync \
 && /opt/channelsync/bin/pip install --no-cache-dir --no-compile . \
 && /opt/channelsync/bin/python -m compileall -q /opt/channelsync/lib

FROM python:3.12.8-slim-bookworm
RUN groupadd --system --gid 10001 channelsync \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/channelsync --create-home channelsync \
 && chmod 0700 /var/lib/channelsync
COPY --from=build /opt/channelsync /opt/channelsync
COPY deploy/channelsync.docker.toml /etc/channelsync/channelsync.toml
ENV PATH=/opt/channelsync/bin:$PATH \
    CHANNELSYNC_CONFIG=/etc/channelsync/channelsync.toml \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /var/lib/channelsync
# the database (and its WAL, shm and lock files, all 0600) live on this volume
VOLUME ["/var/lib/channelsync"]
# /healthz and /metrics (on 127.0.0.1 unless daemon.http_host says otherwise)
EXPOSE 9464
# /healthz answers 503 while a channel fails (daemon.unhealthy_when), so this check fires
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
CMD ["channelsync", "run"]
