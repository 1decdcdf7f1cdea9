# The treatyflow worker (and the `treaty` CLI) as a container image.
#
#   docker build -t treatyflow:0.1.0 .
#   docker run --rm -e TEMPORAL_ADDRESS=... -e DATABASE_URL=... treatyflow:0.1.0
#
# Configuration is the environment, with the variable names the CLI uses (see settings.py
# and `treaty config show`). The image's defaults: JSON logs, the health endpoint on 8080
# and the Temporal SDK's Prometheus metrics on 9464, both on every interface.
FROM python:3.11.13-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 treatyflow \
    && useradd --system --uid 10001 --gid treatyflow --create-home treatyflow

WORKDIR /app
COPY pyproject.toml README.md ./
COPY settings.py worker.py ./
COPY activities/ activities/
COPY adapters/ adapters/
COPY app/ app/
COPY audit/ audit/
COPY cli/ cli/
COPY domain/ domain/
COPY eventstore/ eventstore/
COPY workflows/ workflows/
COPY examples/ examples/
RUN pip install --no-compile . \
    && python -c "import worker, settings, cli.main"

USER treatyflow
ENV TREATYFLOW_HOME=/home/treatyflow/data \
    TREATYFLOW_LOG_FORMAT=json \
    TREATYFLOW_HEALTH_HOST=0.0.0.0 \
    TREATYFLOW_HEALTH_PORT=8080 \
    TREATYFLOW_METRICS_HOST=0.0.0.0 \
    TREATYFLOW_METRICS_PORT=9464
EXPOSE 8080 9464

# Healthy while every worker process runs and reaches Temporal and PostgreSQL.
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "adapters.health"]

# SIGTERM (docker stop) shuts the worker down gracefully: in-flight activities get
# TREATYFLOW_GRACEFUL_SHUTDOWN_SECONDS to finish; give the container more (stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["python", "-m", "worker"]
