"""FlowControl over mutual TLS: a real flow-controller replica (NATS, Redis) serving its
certificate, and the picker's FlowControlClient verifying it by CA and name."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gie.flowcontrol import (
    AdmitRequest,
    FlowControlClient,
    FlowControlConfig,
    FlowControlUnavailableError,
    FlowKey,
    Outcome,
)
from gie.saturation import SaturationConfig
from gie.tls import FlowControlClientTlsSettings, client_channel_credentials
from gie_cli.devstack.local_ca import CertificatePaths, LocalCA
from gie_cli.devstack.secure import FLOW_CONTROLLER_NAME, SecureStack
from gie_flow_controller.app import run
from gie_flow_controller.config_file import FlowControllerConfig
from tests.support.flow_replicas import in_process_settings
from tests.support.running import wait_ready

pytestmark = pytest.mark.integration


@dataclass
class Served:
    secure: SecureStack
    target: str


@pytest.fixture
async def served(nats_url: str, redis_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    secure = SecureStack.create(tmp_path / "pki")
    env = secure.service_env("flow-controller")
    settings = in_process_settings(
        nats_url, redis_url, f"tls-{uuid.uuid4().hex[:8]}/pool", "fc-tls"
    ).model_copy(
        update={
            "grpc_tls_cert_file": Path(env["GIE_GRPC_TLS_CERT_FILE"]),
            "grpc_tls_key_file": Path(env["GIE_GRPC_TLS_KEY_FILE"]),
            "grpc_tls_client_ca_file": Path(env["GIE_GRPC_TLS_CLIENT_CA_FILE"]),
        }
    )
    config = FlowControllerConfig(
        FlowControlConfig.model_validate({"shardCount": 1}), SaturationConfig()
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop, config=config))
    try:
        await wait_ready(settings.admin_port)
        yield Served(secure, f"127.0.0.1:{settings.grpc_port}")
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


def _client(
    served: Served, *, client: CertificatePaths | None, server_name: str = FLOW_CONTROLLER_NAME
) -> FlowControlClient:
    settings = FlowControlClientTlsSettings(
        flow_control_tls_ca_file=served.secure.ca.ca_path,
        flow_control_tls_server_name=server_name,
        flow_control_tls_cert_file=client.certificate if client else None,
        flow_control_tls_key_file=client.key if client else None,
    )
    return FlowControlClient(
        [served.target], max_rounds=1, tls=client_channel_credentials(settings)
    )


def _request(rid: str) -> AdmitRequest:
    # No endpoint has capacity (no metrics): the request waits until its deadline.
    deadline = datetime.now(UTC) + timedelta(seconds=1)
    return AdmitRequest(
        rid, FlowKey("t", 0), byte_size=10, candidates=("10.9.0.1:8000",), deadline=deadline
    )


async def test_the_picker_certificate_is_let_through(served: Served) -> None:
    async with _client(served, client=served.secure.picker) as client:
        result = await client.admit(_request("r1"), timeout_s=10)
    assert result.outcome is Outcome.EVICTED_TTL


@pytest.mark.parametrize("who", ["no-certificate", "foreign-certificate", "wrong-name"])
async def test_unverified_peers_get_no_answer(served: Served, who: str, tmp_path: Path) -> None:
    client: CertificatePaths | None = served.secure.picker
    server_name = FLOW_CONTROLLER_NAME
    if who == "no-certificate":
        client = None
    elif who == "foreign-certificate":
        client = LocalCA.create(tmp_path / "other").issue("picker", usage="client")
    else:
        server_name = "picker.gie.local"  # a name the flow-controller's certificate lacks
    async with _client(served, client=client, server_name=server_name) as flow:
        with pytest.raises(FlowControlUnavailableError):
            await flow.admit(_request(f"r-{who}"), timeout_s=5)
