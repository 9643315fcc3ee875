"""NATS and Redis from testcontainers, used only where a Docker engine answers.

Our own machines have no Docker engine; there the session fixtures start local
server processes instead (see :mod:`tests.support.servers`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import subprocess
from collections.abc import Iterator


def docker_available() -> bool:
    """True when testcontainers is installed and a Docker engine answers."""
    if importlib.util.find_spec("testcontainers") is None or shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@contextlib.contextmanager
def nats_container() -> Iterator[str]:
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415 - optional
    from testcontainers.core.waiting_utils import wait_for_logs  # noqa: PLC0415

    container = DockerContainer("nats:2.10-alpine").with_command("-js").with_exposed_ports(4222)
    with container:
        wait_for_logs(container, "Server is ready", timeout=30)
        host, port = container.get_container_host_ip(), container.get_exposed_port(4222)
        yield f"nats://{host}:{port}"


@contextlib.contextmanager
def redis_container() -> Iterator[str]:
    from testcontainers.redis import RedisContainer  # noqa: PLC0415 - optional

    with RedisContainer("redis:7-alpine") as container:
        host, port = container.get_container_host_ip(), container.get_exposed_port(6379)
        yield f"redis://{host}:{port}/0"
