# The License Service image: `license-service` on python:3.11-slim, run as the non-root user
# 10001 (the Helm chart's runAsUser/fsGroup), with a read-only root filesystem in mind: the
# only writable places are the data directory (/data, a volume) and /tmp (an emptyDir).
#
#   docker build -t license-service:0.1.0 .
#
# Not built on the project's machines (they have no Docker engine): see deploy/README.md.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Only what `pip install .` needs: the image never holds tests, the venv or the git tree.
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/license-service \
    && /opt/license-service/bin/pip install . \
    && /opt/license-service/bin/python -m compileall -q /opt/license-service

FROM python:3.11-slim
# No bytecode written at run time (the root filesystem is read-only); logs unbuffered.
# Two malloc arenas: with glibc's default (8 per core) the API's worker threads made resident
# memory creep under load (250 -> 295 MiB over 66,000 requests); with 2 it stays flat
# (tests/load reads this line and runs its server the same way).
ENV PATH=/opt/license-service/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2
RUN groupadd --system --gid 10001 license-service \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin license-service \
    && install -d -o 10001 -g 10001 -m 0700 /data
COPY --from=build /opt/license-service /opt/license-service
# Numeric, so that Kubernetes can check runAsNonRoot without a runAsUser.
USER 10001:10001
WORKDIR /data
EXPOSE 8080 8081
ENTRYPOINT ["license-service"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--metrics-port", "8081", "--data-dir", "/data"]
