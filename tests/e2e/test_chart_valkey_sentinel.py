"""The chart's replicated Valkey really runs, and the flow-controller follows a failover.

The chart is rendered with ``global.valkey.sentinel.enabled`` (three nodes, a password
from a Secret). Each node's two containers are started with the rendered commands,
scripts and Sentinel configuration; what the cluster provides is supplied here: each
pod gets its own loopback address (127.0.0.2, .3, .4) standing for its own network
namespace, so the node names of the headless Service become those addresses (and the
fixed ports free ones), the pod name comes from the downward API, the password from the
Secret. The flow-controller is started from its rendered Deployment. Then the primary
is killed: the Sentinels must promote a replica, and the flow-controller must carry on
writing to it, having found it through them; started again, the old primary must ask
the Sentinels and start as a replica of the new one, never answering as a primary.
The start script's ``valkey-cli`` is the Redis client on PATH (Debian's ``redis-cli``,
installed with ``make redis-server``), as the image ships its own.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from redis import Redis
from redis.exceptions import RedisError

from gie_cli.devstack.binaries import find_redis_server
from gie_cli.devstack.ports import free_ports
from tests.support.chart import NAMESPACE, named, render
from tests.support.chart_processes import (
    config_maps,
    container_env,
    expand,
    mounted_folders,
    relocate,
    started,
    wait_for,
)

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
NODES = 3
MASTER = "gie"
PASSWORD = "not-in-the-manifests"
SECRET = "gie-valkey-password"
LOCAL = "127.0.0.1"


def node_ip(index: int) -> str:
    return f"127.0.0.{index + 2}"


def node_name(index: int) -> str:
    return f"gie-valkey-{index}.gie-valkey-headless.{NAMESPACE}.svc"


def free_everywhere(count: int) -> list[int]:
    """``count`` ports free on the loopback address of every node."""
    ports: list[int] = []
    for candidate in free_ports(50, host=node_ip(0)):
        with contextlib.ExitStack() as sockets:
            try:
                for index in range(1, NODES):
                    sock = sockets.enter_context(socket.socket())
                    sock.bind((node_ip(index), candidate))
            except OSError:
                continue
        ports.append(candidate)
        if len(ports) == count:
            return ports
    pytest.skip("no port is free on every node's loopback address")


def localiser(redis_port: int, sentinel_port: int) -> Callable[[str], str]:
    def localise(text: str) -> str:
        for index in range(NODES):
            text = text.replace(node_name(index), node_ip(index))
        text = re.sub(r"\b26379\b", str(sentinel_port), text)
        text = re.sub(r"\b6379\b", str(redis_port), text)
        return text.replace("0.0.0.0", LOCAL)

    return localise


def chart_values(tmp: Path, nats_url: str) -> Path:
    admin, grpc = free_ports(2)
    values: dict[str, Any] = {
        "global": {
            "externalNats": {"url": nats_url},
            "logFormat": "console",
            "streamReplicas": 1,
            "flowControllerGrpcPort": grpc,
            "valkey": {
                "sentinel": {"enabled": True, "nodes": NODES, "masterName": MASTER},
                "passwordSecret": {"name": SECRET},
            },
        },
        "nats": {"enabled": False},
        "valkey": {"sentinel": {"downAfterMilliseconds": 1000, "failoverTimeout": 5000}},
        "flow-controller": {"ports": {"admin": admin}},
    }
    path = tmp / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def client_tools(folder: Path) -> Path:
    """A folder with ``valkey-cli``: the one on PATH, else ``redis-cli`` under its name."""
    found = shutil.which("valkey-cli") or shutil.which("redis-cli")
    if found is None:
        pytest.fail("neither valkey-cli nor redis-cli is on PATH: run `make redis-server`")
    folder.mkdir()
    (folder / "valkey-cli").symlink_to(found)
    return folder


def sentinel_client(port: int, index: int) -> Redis:
    return Redis(node_ip(index), port, password=PASSWORD, socket_timeout=2, decode_responses=True)


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(RedisError, OSError):
            if check():
                return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout_s}s")


def masters_named(sentinel_port: int) -> set[tuple[str, int]]:
    named_by = set()
    for index in range(NODES):
        with sentinel_client(sentinel_port, index) as client:
            host, port = client.execute_command("SENTINEL", "get-master-addr-by-name", MASTER)
            named_by.add((host, int(port)))
    return named_by


def formed(sentinel_port: int, redis_port: int) -> bool:
    """Every Sentinel names node 0 the primary and knows both replicas and both peers."""
    if masters_named(sentinel_port) != {(node_ip(0), redis_port)}:
        return False
    for index in range(NODES):
        with sentinel_client(sentinel_port, index) as client:
            replicas = client.execute_command("SENTINEL", "replicas", MASTER)
            peers = client.execute_command("SENTINEL", "sentinels", MASTER)
            if len(replicas) != NODES - 1 or len(peers) != NODES - 1:
                return False
    return True


def state_of(sentinel_port: int, procs: dict[str, subprocess.Popen[bytes]], logs: Path) -> str:
    """What each Sentinel knows and each process's exit status and log tail, for a failure."""
    lines = []
    for index in range(NODES):
        try:
            with sentinel_client(sentinel_port, index) as client:
                master = client.execute_command("SENTINEL", "get-master-addr-by-name", MASTER)
                replicas = client.execute_command("SENTINEL", "replicas", MASTER)
                peers = client.execute_command("SENTINEL", "sentinels", MASTER)
            lines.append(
                f"sentinel {index}: master {master}, {len(replicas)} replicas, {len(peers)} peers"
            )
        except (RedisError, OSError) as exc:
            lines.append(f"sentinel {index}: {exc!r}")
    for name, proc in procs.items():
        log = logs / f"{name}.log"
        tail = log.read_text(errors="replace")[-1500:] if log.exists() else "(no log)"
        lines.append(f"--- {name}: exit {proc.poll()}\n{tail}")
    return "\n".join(lines)


def scripts_run(redis_port: int, index: int) -> int:
    """Scripts this node ran for its clients (replicas apply their effects instead)."""
    with Redis(node_ip(index), redis_port, password=PASSWORD, socket_timeout=2) as client:
        stats = client.info("commandstats")
        return sum(
            int(v["calls"]) for k, v in stats.items() if k in {"cmdstat_evalsha", "cmdstat_eval"}
        )


def role(redis_port: int, index: int) -> list[Any]:
    """ROLE of a node: ["slave", primary host, primary port] for a replica."""
    with Redis(node_ip(index), redis_port, password=PASSWORD, socket_timeout=2) as client:
        reply = client.execute_command("ROLE")
    return [part.decode() if isinstance(part, bytes) else part for part in reply[:3]]


def test_the_flow_controller_follows_a_failover_of_the_rendered_valkey(
    tmp_path: Path, nats_url: str
) -> None:
    redis_port, sentinel_port = free_everywhere(2)
    localise = localiser(redis_port, sentinel_port)
    rendered = render(chart_values(tmp_path, nats_url))
    maps = config_maps(rendered)
    statefulset = named(rendered, "StatefulSet", "gie-valkey")
    assert statefulset["spec"]["replicas"] == NODES
    pod = statefulset["spec"]["template"]["spec"]
    server_dir = str(find_redis_server().parent)
    tools = client_tools(tmp_path / "tools")
    base_env = {"PATH": os.pathsep.join([server_dir, str(tools), os.environ.get("PATH", "")])}
    logs = tmp_path / "logs"
    logs.mkdir()

    with contextlib.ExitStack() as stack:
        procs: dict[str, subprocess.Popen[bytes]] = {}
        commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        for index in range(NODES):
            files = tmp_path / f"gie-valkey-{index}"
            for container in pod["containers"]:
                mounts = mounted_folders(pod, container, files, maps, localise)
                env = container_env(
                    container,
                    f"gie-valkey-{index}",
                    mounts,
                    localise,
                    {"VALKEY_PASSWORD": PASSWORD},
                )
                command = [
                    *(localise(arg) for arg in container["command"]),
                    *(localise(arg) for arg in container.get("args", [])),
                ]
                command = [expand(relocate(arg, mounts), env) for arg in command]
                command += ["--bind", node_ip(index)]  # the pod's own address
                name = f"{container['name']}-{index}"
                commands[name] = (command, {**base_env, **env})
                procs[name] = stack.enter_context(
                    started(command, {**base_env, **env}, logs / f"{name}.log")
                )
        try:
            wait_until(lambda: formed(sentinel_port, redis_port), "formed")
        except AssertionError:
            raise AssertionError(
                "the Sentinels never formed\n" + state_of(sentinel_port, procs, logs)
            ) from None

        fc_pod = named(rendered, "Deployment", "gie-flow-controller")["spec"]["template"]["spec"]
        fc = fc_pod["containers"][0]
        mounts = mounted_folders(fc_pod, fc, tmp_path / "flow-controller", maps)
        env = container_env(
            fc, "gie-flow-controller-0", mounts, localise, {"GIE_REDIS_PASSWORD": PASSWORD}
        )
        assert "GIE_REDIS_URL" not in env
        assert env["GIE_REDIS_SENTINELS"] == ",".join(
            f"{node_ip(i)}:{sentinel_port}" for i in range(NODES)
        )
        procs["flow-controller"] = stack.enter_context(
            started(
                [str(BIN / fc["command"][0])], {**base_env, **env}, logs / "flow-controller.log"
            )
        )
        ready = f"http://{LOCAL}:{env['GIE_ADMIN_PORT']}/readyz"
        wait_for(ready, procs, logs)
        wait_until(lambda: scripts_run(redis_port, 0) > 0, "no flow state written to node 0")

        primary = procs.pop("valkey-0")
        primary.kill()  # as a node that dies; its Sentinel stays
        primary.wait(timeout=10)
        promoted: set[tuple[str, int]] = set()

        def failed_over() -> bool:  # every Sentinel (all still run) names the same new one
            promoted.clear()
            promoted.update(masters_named(sentinel_port))
            return len(promoted) == 1 and (node_ip(0), redis_port) not in promoted

        wait_until(failed_over, "no replica was promoted")
        [(new_host, _)] = promoted
        new_index = int(new_host.rsplit(".", 1)[1]) - 2
        before = scripts_run(redis_port, new_index)
        wait_until(
            lambda: scripts_run(redis_port, new_index) > before,
            "the flow-controller never wrote to the promoted replica",
        )
        wait_for(ready, procs, logs)

        # The old primary comes back: it asks the Sentinels and starts as a replica of
        # the promoted node, so its first answer to ROLE already names it.
        command, node_env = commands["valkey-0"]
        stack.enter_context(started(command, node_env, logs / "valkey-0-again.log"))
        answers: list[list[Any]] = []

        def answered() -> bool:
            answers.append(role(redis_port, 0))  # raises until it accepts connections
            return True

        wait_until(answered, "node 0 never came back")
        assert answers[0] == ["slave", new_host, redis_port], (
            f"the old primary came back as {answers[0]}\n" + state_of(sentinel_port, procs, logs)
        )
