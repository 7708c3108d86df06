# channelsync daemon image: build a wheel, install it into a slim runtime as a non-root user.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY channelsync ./channelsync
COPY plugins ./plugins
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && pip wheel --no-cache-dir --wheel-dir /wheels /wheels/channelsync-*.whl

FROM python:3.12-slim
RUN groupadd --system --gid 10001 channelsync \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/channelsync --create-home channelsync
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels channelsync==0.1.0 && rm -rf /wheels
COPY config/channelsync.docker.toml /etc/channelsync/channelsync.toml
ENV CHANNELSYNC_CONFIG=/etc/channelsync/channelsync.toml \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /var/lib/channelsync
# the database (and its WAL and lock files) live on this volume
VOLUME ["/var/lib/channelsync"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
CMD ["channelsync", "run"]
