"""global.busSecurity: each service connects to NATS as its own user, with the password
from a Secret and NATS's certificate verified; the bundled NATS holds the users and
permissions generated from gie.security, and a real nats-server runs the rendered
configuration: each identity does its own work and is refused the rest."""

from __future__ import annotations

import base64
import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, NoPermissionError

from gie.bus import BusMetrics, BusPublishError, NatsEventBus
from gie.security import READER, SERVICE_IDENTITIES, NatsCredentials, inbox_prefix
from gie.security.nats_permissions import password_variable
from gie_cli.devstack.binaries import find_nats_server
from gie_cli.devstack.local_ca import LocalCA
from gie_cli.devstack.ports import free_port
from tests.support.chart import CHART, NAMESPACE, Obj, env_of, named, render, run_helm
from tests.support.consume_events import completed

SECURE = CHART / "ci" / "bus-security.yaml"
DEV = CHART / "ci" / "dev.yaml"
SERVICES = ("ingest", "metrics-collector", "flow-controller", "picker")
ROOT = Path(__file__).resolve().parents[2]


def container(rendered: tuple[Obj, ...], service: str) -> Obj:
    deployment = named(rendered, "Deployment", f"gie-{service}")
    first: Obj = deployment["spec"]["template"]["spec"]["containers"][0]
    return first


def volumes(rendered: tuple[Obj, ...], service: str) -> dict[str, Obj]:
    spec = named(rendered, "Deployment", f"gie-{service}")["spec"]["template"]["spec"]
    return {volume["name"]: volume for volume in spec["volumes"]}


def nats_conf(rendered: tuple[Obj, ...]) -> str:
    text: str = named(rendered, "ConfigMap", "gie-nats-config")["data"]["nats.conf"]
    return text


def test_off_by_default_anonymous_plain_nats() -> None:
    rendered = render(DEV)
    assert not [o for o in rendered if o["metadata"]["name"] == "gie-bus-credentials"]
    for service in SERVICES:
        env = env_of(container(rendered, service))
        assert "GIE_NATS_USER" not in env and env["GIE_NATS_URL"].startswith("nats://")
    assert "authorization" not in nats_conf(rendered) and "tls {" not in nats_conf(rendered)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_its_own_user_with_its_own_password_and_the_ca(service: str) -> None:
    rendered = render(SECURE)
    env = env_of(container(rendered, service))
    assert env["GIE_NATS_USER"] == f"gie-{service}"
    assert env["GIE_NATS_PASSWORD_FILE"] == "/etc/gie/bus/nats-password"
    assert env["GIE_NATS_TLS_CA_FILE"] == "/etc/gie/bus-tls/ca.crt"
    assert env["GIE_NATS_URL"] == f"tls://gie-nats.{NAMESPACE}.svc:4222"
    mine = volumes(rendered, service)
    # Only its own password is mounted, and only the CA of the TLS Secret.
    assert mine["bus-credentials"]["secret"]["secretName"] == "gie-bus-credentials"
    nats_items = [
        i for i in mine["bus-credentials"]["secret"]["items"] if i["key"].startswith("gie-")
    ]
    assert nats_items == [{"key": f"gie-{service}", "path": "nats-password"}]
    assert mine["bus-tls"]["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]


def test_the_chart_makes_a_password_per_identity_and_nats_reads_each() -> None:
    rendered = render(SECURE)
    secret = named(rendered, "Secret", "gie-bus-credentials")
    users = [i.user for i in (*SERVICE_IDENTITIES, READER)]
    assert sorted(secret["data"]) == sorted([*users, "valkey-gie-flow-controller"])
    assert len({base64.b64decode(v) for v in secret["data"].values()}) == len(users) + 1
    nats = named(rendered, "StatefulSet", "gie-nats")["spec"]["template"]["spec"]
    refs = {
        item["name"]: item["valueFrom"]["secretKeyRef"]
        for item in nats["containers"][0]["env"]
        if item["name"].startswith("GIE_NATS_PASSWORD_")
    }
    assert refs == {
        password_variable(i): {"name": "gie-bus-credentials", "key": i.user}
        for i in (*SERVICE_IDENTITIES, READER)
    }


def test_an_existing_secret_replaces_the_chart_made_one() -> None:
    rendered = render(SECURE, "global.busSecurity.existingSecret=mine")
    assert not [o for o in rendered if o["metadata"]["name"] == "gie-bus-credentials"]
    assert volumes(rendered, "picker")["bus-credentials"]["secret"]["secretName"] == "mine"


def test_the_generated_permissions_file_is_current() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/nats_authorization.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@contextlib.contextmanager
def rendered_nats(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """A real nats-server running the chart's rendered configuration, with the chart's
    Secret in its environment and a certificate of a local CA; yields the URL, the
    passwords and the CA."""
    rendered = render(SECURE)
    paths = LocalCA.create(tmp_path / "ca").issue("nats", usage="server")
    tls_dir = tmp_path / "tls"
    tls_dir.mkdir()
    for name, source in (("tls.crt", paths.certificate), ("tls.key", paths.key)):
        (tls_dir / name).write_bytes(source.read_bytes())
    (tls_dir / "ca.crt").write_bytes(paths.ca.read_bytes())
    conf = nats_conf(rendered).replace("/etc/nats-tls", str(tls_dir))
    conf = conf.replace("/var/run/nats/nats.pid", str(tmp_path / "nats.pid"))
    conf = conf.replace('store_dir: "/data"', f'store_dir: "{tmp_path / "js"}"')
    port, monitor = free_port(), free_port()
    (tmp_path / "nats.conf").write_text(conf)
    secret = named(rendered, "Secret", "gie-bus-credentials")["data"]
    passwords = {user: base64.b64decode(value).decode() for user, value in secret.items()}
    env = {password_variable(i): passwords[i.user] for i in (*SERVICE_IDENTITIES, READER)}
    argv = [str(find_nats_server()), "-c", str(tmp_path / "nats.conf"), "-a", "127.0.0.1"]
    argv += ["-p", str(port), "-m", str(monitor)]
    log = tmp_path / "nats.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env={**env, "POD_NAME": "gie-nats-0"}, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{monitor}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield f"tls://127.0.0.1:{port}", passwords, paths.ca
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_a_real_nats_server_runs_the_rendered_configuration(tmp_path: Path) -> None:
    with rendered_nats(tmp_path) as (url, passwords, ca):
        for identity in SERVICE_IDENTITIES:
            password_file = tmp_path / f"{identity.user}.password"
            password_file.write_text(passwords[identity.user])
            credentials = NatsCredentials(
                user=identity.user,
                password_file=password_file,
                tls_ca_file=ca,
                inbox_prefix=inbox_prefix(identity),
            )
            metrics = BusMetrics()
            async with NatsEventBus(
                url,
                name=identity.service,
                metrics=metrics,
                connect_timeout_s=5,
                publish_timeout_s=1,
                credentials=credentials,
            ) as bus:
                await bus.ensure_streams()
                await bus.publish(f"gie.v1.p.{identity.publishes[0]}.x", completed("a/p", 1))
                foreign = "endpoint" if identity.service == "picker" else "routing"
                with pytest.raises(BusPublishError):
                    await bus.publish(f"gie.v1.p.{foreign}.x", completed("a/p", 2))
            assert metrics.permission_denied.labels("publish").value == 1
        anonymous = NatsEventBus(
            url, name="anonymous", connect_timeout_s=1, credentials=NatsCredentials(tls_ca_file=ca)
        )
        with pytest.raises(Exception, match="refused the credentials"):
            await anonymous.connect()


def test_the_secure_values_file_is_one_of_the_ci_files() -> None:
    assert yaml.safe_load(SECURE.read_text())["global"]["busSecurity"]["auth"] is True


def test_the_flow_controller_is_the_valkey_acl_user_with_its_password_file() -> None:
    rendered = render(SECURE)
    env = env_of(container(rendered, "flow-controller"))
    assert env["GIE_REDIS_USERNAME"] == "gie-flow-controller"
    assert env["GIE_REDIS_PASSWORD_FILE"] == "/etc/gie/bus/redis-password"
    items = volumes(rendered, "flow-controller")["bus-credentials"]["secret"]["items"]
    assert {"key": "valkey-gie-flow-controller", "path": "redis-password"} in items
    for other in ("picker", "ingest", "metrics-collector"):
        assert "GIE_REDIS_USERNAME" not in env_of(container(rendered, other))
        other_items = volumes(rendered, other)["bus-credentials"]["secret"]["items"]
        assert [i["key"] for i in other_items] == [f"gie-{other}"]


@pytest.mark.parametrize(
    ("sets", "error"),
    [
        (("global.valkey.sentinel.enabled=true",), "single node only"),
        (("global.valkey.passwordSecret.name=pw",), "replaces global.valkey.passwordSecret"),
    ],
    ids=["sentinel", "password"],
)
def test_redis_acl_refuses_what_it_cannot_serve(sets: tuple[str, ...], error: str) -> None:
    args = ["template", "gie", CHART, "-f", SECURE]
    for pair in sets:
        args += ["--set", pair]
    result = run_helm(*args)
    assert result.returncode != 0 and error in result.stderr


async def test_a_real_redis_server_runs_the_rendered_valkey_arguments(tmp_path: Path) -> None:
    rendered = render(SECURE)
    valkey = named(rendered, "StatefulSet", "gie-valkey")["spec"]["template"]["spec"]
    args: list[str] = valkey["containers"][0]["args"]
    secret = named(rendered, "Secret", "gie-bus-credentials")["data"]
    password = base64.b64decode(secret["valkey-gie-flow-controller"]).decode()
    port = free_port()
    args = [a.replace("$(VALKEY_FLOW_CONTROLLER_PASSWORD)", password) for a in args]
    args[args.index("--port") + 1] = str(port)
    args[args.index("--dir") + 1] = str(tmp_path)
    user = Redis(port=port, username="gie-flow-controller", password=password)
    anonymous = Redis(port=port)
    with started_redis(args, tmp_path):
        assert await user.ping()
        await user.hset("{gie:a/p}:fc:meta", "k", "v")
        with pytest.raises(NoPermissionError):
            await user.execute_command("KEYS", "*")
        with pytest.raises(NoPermissionError):
            await user.set("someone-else", "x")
        with pytest.raises(AuthenticationError):
            await anonymous.ping()
    await user.aclose()
    await anonymous.aclose()


@contextlib.contextmanager
def started_redis(args: list[str], tmp_path: Path) -> Iterator[None]:
    """Debian's redis-server with the chart's Valkey arguments, once it listens."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed: make redis-server"
    log = tmp_path / "redis.log"
    port = int(args[args.index("--port") + 1])
    with log.open("wb") as out:
        proc = subprocess.Popen([binary, *args, "--bind", "127.0.0.1"], stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)
