# One image for every gie service; the command picks the service:
#   gie-picker, gie-flow-controller, gie-metrics-collector, gie-ingest, or gie (the CLI).
# Build from the repository root: `make image` (docker or podman).
ARG PYTHON_IMAGE=python:3.11-slim

# -- builder: the distribution and exactly the locked dependency versions, in a venv ----
# (with the tokenizers extra: the picker may tokenize prompts as the model servers do)
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/gie
COPY constraints.txt pyproject.toml README.md ./
COPY libs ./libs
COPY sim ./sim
COPY services ./services
RUN /opt/gie/bin/pip install --constraint constraints.txt --upgrade pip \
 && /opt/gie/bin/pip install --constraint constraints.txt '.[tokenizers]'

# -- runtime: the venv only, a numeric non-root user, nothing written outside /tmp ------
FROM ${PYTHON_IMAGE}
# HOME and TMPDIR point at /tmp so a read-only root filesystem works with an emptyDir
# mounted there; no .pyc files are written at run time.
ENV PATH=/opt/gie/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    GIE_ADMIN_HOST=0.0.0.0 \
    GIE_GRPC_HOST=0.0.0.0
COPY --from=builder /opt/gie /opt/gie
WORKDIR /tmp
USER 65532:65532
# picker ext_proc and admin, flow-controller gRPC and admin, metrics-collector and
# ingest admin (each service's default port).
EXPOSE 9002 9090 9004 9094 9092 9093
CMD ["gie", "--help"]
