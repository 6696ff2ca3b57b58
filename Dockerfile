# profiletometrics as a container image, on Debian 12 slim.
#
#   docker build -t profiletometrics .
#   docker run --rm -p 4317:4317 -p 4318:4318 -p 8889:8889 profiletometrics
#   docker run --rm -v "$PWD/config.yaml:/etc/profiletometrics/config.yaml:ro" \
#       -p 4317:4317 -p 4318:4318 -p 8889:8889 profiletometrics
#
# The entrypoint is `profiletometrics serve`: what follows the image name are
# serve's flags, as otelcol takes them (--config=FILE, --feature-gates=...).
# They replace CMD's --config, so give --config with them.
# Other commands: docker run --rm --entrypoint profiletometrics IMAGE check -c FILE.
# docs/deployment.md has the details; tests/e2e/docker_image checks this file.

# ---- build: the README's commands on a fresh Debian 12 ----
FROM debian:bookworm-slim AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends make
COPY . .
# make installs the Debian packages the build needs, then builds.
RUN make
RUN make install DESTDIR=/out PREFIX=/usr/local

# ---- run: the binary and its shared libraries, nothing else ----
FROM debian:bookworm-slim
# The libraries `ldd profiletometrics` lists (their own dependencies come
# with them), lua-lpeg for rules that require "lpeg" or "re", and the CA
# certificates for exporters that send over TLS.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libluajit-5.1-2 libprotobuf-c1 libyaml-0-2 libpcre2-8-0 libmicrohttpd12 libgnutls30 libnghttp2-14 \
        libcurl4 libssl3 zlib1g lua-lpeg ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A user of its own, not root; /var/lib/profiletometrics is where it may
# write (a file exporter's output, the on-disk queue of file_storage).
RUN groupadd --system --gid 10001 profiletometrics \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/profiletometrics \
        --shell /usr/sbin/nologin profiletometrics \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/profiletometrics
COPY --from=build /out/usr/local/bin/profiletometrics /usr/local/bin/profiletometrics
COPY examples/config/container.yaml /etc/profiletometrics/config.yaml
USER 10001:10001
WORKDIR /var/lib/profiletometrics
# 4317 OTLP/gRPC, 4318 OTLP/HTTP, 4040 Pyroscope /ingest, 8888 self-telemetry
# and /health, 8889 Prometheus /metrics: the ports the shipped config listens on.
EXPOSE 4040 4317 4318 8888 8889
# No curl in the image: the binary asks its own /health, at the address the
# configuration gives (mount a config of your own at the same path).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/profiletometrics", "health", "--quiet", "--config", "/etc/profiletometrics/config.yaml"]
ENTRYPOINT ["/usr/local/bin/profiletometrics", "serve"]
CMD ["--config", "/etc/profiletometrics/config.yaml"]
