"""``gie up --secure``: ext_proc over mutual TLS between a real Envoy and the real picker.

One secure stack for the module. Routing works through it; a second Envoy that expects
another name for the picker refuses its certificate; 100 requests across a certificate
rotation all succeed; an expired certificate is logged and counted by the picker and
refused by Envoy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import httpx
import pytest
import pytest_asyncio
import yaml
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gie_cli.devstack import PartStartError, StackOptions, find_envoy, start_stack
from gie_cli.devstack.envoy_config import PickerTls, build_envoy_config
from gie_cli.devstack.local_ca import LOCAL_DNS_NAMES, LOCAL_IP_ADDRESSES, LocalCA
from gie_cli.devstack.ports import free_ports
from gie_cli.devstack.processes import spawn, stop_process
from gie_cli.devstack.readiness import local_http_client, probe
from gie_cli.devstack.secure import PICKER_NAME

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

MODEL = "sim-llama"
BODY = {"model": MODEL, "prompt": "hello there", "max_tokens": 3}


@dataclass(frozen=True)
class SecureStack:
    gateway: str
    envoy_admin: str
    picker_admin: str
    picker_port: int
    sims: list[str]
    pki: Path
    picker_log: Path
    state_dir: Path

    @property
    def ca(self) -> LocalCA:
        return LocalCA.load(self.pki)

    def reissue_picker(self, **kwargs: object) -> None:
        """Replace the picker's certificate files (as a rotation does)."""
        options: dict[str, object] = {
            "dns_names": (PICKER_NAME, *LOCAL_DNS_NAMES),
            "ip_addresses": LOCAL_IP_ADDRESSES,
        }
        options.update(kwargs)
        self.ca.issue("picker", **options)  # type: ignore[arg-type]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SecureStack]:
    options = StackOptions(
        state_dir=tmp_path_factory.mktemp("secure-stack"),
        sims=2,
        time_scale=0.05,
        secure=True,
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"secure stack did not start: {error}\n{error.log_tail}", pytrace=False)
    parts = {part.name: part for part in running.state.parts}
    try:
        yield SecureStack(
            gateway=running.gateway,
            envoy_admin=parts["envoy"].addresses["admin"],
            picker_admin=parts["picker"].addresses["admin"],
            picker_port=int(parts["picker"].addresses["grpc"].rpartition(":")[2]),
            sims=[p.addresses["endpoint"] for p in running.state.parts if p.kind == "sim"],
            pki=running.state.data_dir / "pki",
            picker_log=running.state.process("picker").log,
            state_dir=running.store.root,
        )
    finally:
        await running.stop()


async def _complete(client: httpx.AsyncClient, gateway: str) -> httpx.Response:
    return await client.post(f"{gateway}/v1/completions", json=BODY)


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=30.0, trust_env=False)


async def _stats(admin: str) -> dict[str, int]:
    async with _http() as client:
        text = (await client.get(f"{admin}/stats")).text
    stats = {}
    for line in text.splitlines():
        name, _, value = line.partition(": ")
        if value.strip().isdigit():
            stats[name] = int(value)
    return stats


async def _metric(admin: str, line_start: str) -> float | None:
    async with _http() as client:
        text = (await client.get(f"{admin}/metrics")).text
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return None


def _picker_serial(stack: SecureStack) -> int:
    """Serial of the certificate the picker gives a new connection (Envoy's client
    certificate, since the picker requires one); verification is not the point here."""
    envoy = stack.ca.paths("envoy")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(envoy.certificate, envoy.key)
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", stack.picker_port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=PICKER_NAME) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def _file_serial(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


@asynccontextmanager
async def _another_envoy(
    stack: SecureStack, tmp_path: Path, *, subject_alt_name: str
) -> AsyncIterator[tuple[str, str]]:
    """A second gateway in front of the stack's picker, verifying it under
    ``subject_alt_name``; yields its gateway and admin URLs."""
    gateway_port, admin_port = free_ports(2)
    envoy = stack.ca.paths("envoy")
    config = build_envoy_config(
        gateway_port=gateway_port,
        admin_port=admin_port,
        picker_grpc_port=stack.picker_port,
        pool_endpoints=stack.sims,
        picker_tls=PickerTls(
            ca_file=envoy.ca,
            subject_alt_name=subject_alt_name,
            client_certificate=envoy.certificate,
            client_key=envoy.key,
        ),
    )
    config_path = tmp_path / "envoy.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    argv = [str(find_envoy()), "-c", str(config_path), "--disable-hot-restart", "-l", "info"]
    child, record = spawn("envoy-2", argv, env=dict(os.environ), log_path=tmp_path / "envoy.log")
    admin = f"http://127.0.0.1:{admin_port}"
    try:
        async with local_http_client() as client:
            deadline = time.monotonic() + 30
            while not await probe(client, f"{admin}/ready"):
                assert child.poll() is None, (tmp_path / "envoy.log").read_text()
                assert time.monotonic() < deadline, "the second Envoy did not become ready"
                await asyncio.sleep(0.1)
        yield f"http://127.0.0.1:{gateway_port}", admin
    finally:
        await stop_process(record, grace_s=5.0, child=child)


async def _until(check: object, *, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {check}"
        await asyncio.sleep(0.2)


async def test_routing_works_over_verified_mutual_tls(secure_stack: SecureStack) -> None:
    async with _http() as client:
        responses = [await _complete(client, secure_stack.gateway) for _ in range(10)]
    assert [r.status_code for r in responses] == [200] * 10
    assert all(r.json()["usage"]["completion_tokens"] == 3 for r in responses)
    stats = await _stats(secure_stack.envoy_admin)
    assert stats["cluster.gie_picker.ssl.handshake"] >= 1
    assert stats.get("cluster.gie_picker.ssl.fail_verify_san", 0) == 0
    # The picker answers nobody without a certificate from the stack's CA.
    credentials = grpc.ssl_channel_credentials(
        root_certificates=secure_stack.ca.ca_path.read_bytes()
    )
    options = [("grpc.ssl_target_name_override", PICKER_NAME)]
    target = f"127.0.0.1:{secure_stack.picker_port}"
    async with grpc.aio.secure_channel(target, credentials, options=options) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="readiness"), timeout=5
            )
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    async with grpc.aio.insecure_channel(target) as channel:
        with pytest.raises(grpc.aio.AioRpcError):
            await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="readiness"), timeout=5
            )


async def test_envoy_refuses_a_picker_certificate_without_the_expected_name(
    secure_stack: SecureStack, tmp_path: Path
) -> None:
    async with (
        _another_envoy(secure_stack, tmp_path, subject_alt_name="other-picker.gie.local") as (
            gateway,
            admin,
        ),
        _http() as client,
    ):

        async def san_failures() -> bool:
            stats = await _stats(admin)
            return stats.get("cluster.gie_picker.ssl.fail_verify_san", 0) >= 1

        await _until(san_failures)
        response = await _complete(client, gateway)
    assert response.status_code in (500, 503), response.text
    assert "usage" not in response.text
    # The stack's own gateway, expecting the right name, still routes.
    async with _http() as client:
        assert (await _complete(client, secure_stack.gateway)).status_code == 200


async def test_100_requests_across_a_certificate_rotation_all_succeed(
    secure_stack: SecureStack, tmp_path: Path
) -> None:
    old_serial = _file_serial(secure_stack.ca.paths("picker").certificate)
    reloads_before = await _metric(
        secure_stack.picker_admin, 'gie_tls_certificate_reloads_total{server="ext_proc"}'
    )
    done = 0
    rotated = asyncio.Event()

    async with _http() as client:

        async def one(limit: asyncio.Semaphore) -> int:
            nonlocal done
            async with limit:
                response = await _complete(client, secure_stack.gateway)
            done += 1
            if done == 40:
                rotated.set()
            return response.status_code

        limit = asyncio.Semaphore(8)
        requests = [asyncio.create_task(one(limit)) for _ in range(100)]
        await rotated.wait()
        secure_stack.reissue_picker()
        new_serial = _file_serial(secure_stack.ca.paths("picker").certificate)
        assert new_serial != old_serial
        try:
            # New connections are served the new certificate (the picker looks at the
            # files at most once a second) while requests keep flowing.
            async def new_certificate_served() -> bool:
                return await asyncio.to_thread(_picker_serial, secure_stack) == new_serial

            await _until(new_certificate_served, timeout_s=5.0)
        finally:
            statuses = await asyncio.gather(*requests, return_exceptions=True)
    assert statuses == [200] * 100
    reloads = await _metric(
        secure_stack.picker_admin, 'gie_tls_certificate_reloads_total{server="ext_proc"}'
    )
    assert reloads == (reloads_before or 0.0) + 1
    # A gateway connecting afresh verifies the new certificate and routes through it.
    async with (
        _another_envoy(secure_stack, tmp_path, subject_alt_name=PICKER_NAME) as (gateway, _),
        _http() as client,
    ):

        async def routes() -> bool:
            return (await _complete(client, gateway)).status_code == 200

        await _until(routes)


async def test_an_expired_picker_certificate_is_logged_counted_and_refused(
    secure_stack: SecureStack, tmp_path: Path
) -> None:
    secure_stack.reissue_picker(
        not_before=datetime.now(UTC) - timedelta(days=2), valid_for=timedelta(days=1)
    )
    try:

        async def flagged() -> bool:
            with contextlib.suppress(ssl.SSLError):  # a new connection triggers the reload
                await asyncio.to_thread(_verified_handshake, secure_stack)
            value = await _metric(
                secure_stack.picker_admin, 'gie_tls_certificate_expired{server="ext_proc"}'
            )
            return value == 1.0

        await _until(flagged)
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate has expired"):
            await asyncio.to_thread(_verified_handshake, secure_stack)
        errors = await _metric(
            secure_stack.picker_admin,
            'gie_tls_certificate_errors_total{reason="expired",server="ext_proc"}',
        )
        assert errors == 1.0
        assert "tls certificate EXPIRED" in secure_stack.picker_log.read_text()
        async with (
            _another_envoy(secure_stack, tmp_path, subject_alt_name=PICKER_NAME) as (
                gateway,
                admin,
            ),
            _http() as client,
        ):

            async def verify_errors() -> bool:
                stats = await _stats(admin)
                return stats.get("cluster.gie_picker.ssl.fail_verify_error", 0) >= 1

            await _until(verify_errors)
            assert (await _complete(client, gateway)).status_code in (500, 503)
    finally:
        secure_stack.reissue_picker()  # renewed: the rest of the module keeps a valid one
    # The stack's gateway kept its connections (opened before) and still routes.
    async with _http() as client:
        assert (await _complete(client, secure_stack.gateway)).status_code == 200


def _verified_handshake(stack: SecureStack) -> None:
    envoy = stack.ca.paths("envoy")
    context = ssl.create_default_context(cafile=str(envoy.ca))
    context.load_cert_chain(envoy.certificate, envoy.key)
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", stack.picker_port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=PICKER_NAME),
    ):
        pass
