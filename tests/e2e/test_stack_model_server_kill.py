"""A model server killed behind the real gateway: with maxNumOfEndpoints 2 the picker
names a fallback, and Envoy sends a request whose primary refuses the connection to
it, so no request fails while the picker still chooses the dead server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from bench.faults.servers import ModelServers
from gie_cli.devstack import PartStartError, StackOptions, start_stack
from gie_cli.devstack.stack import RunningStack

pytestmark = pytest.mark.e2e

MODEL = "sim-llama"
BODY = {"model": MODEL, "prompt": "hello", "max_tokens": 2}
CONFIG = """\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: max-score-picker
  parameters: {maxNumOfEndpoints: 2}
schedulingProfiles:
- name: default
  plugins:
  - {pluginRef: queue-scorer}
  - {pluginRef: max-score-picker}
"""


@pytest_asyncio.fixture(loop_scope="session")
async def two_servers(tmp_path: Path) -> AsyncIterator[tuple[ModelServers, RunningStack]]:
    servers = ModelServers(
        tmp_path / "servers", count=2, model=MODEL, time_scale=0.0, max_num_seqs=8
    )
    await servers.start()
    config = tmp_path / "epp.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    try:
        try:
            running = await start_stack(
                StackOptions(
                    state_dir=tmp_path / "stack",
                    endpoints=tuple(servers.addresses),
                    model=MODEL,
                    config_file=config,
                    stop_grace_s=5.0,
                )
            )
        except PartStartError as error:
            pytest.fail(f"stack did not start: {error}\n{error.log_tail}", pytrace=False)
        try:
            yield servers, running
        finally:
            await running.stop()
    finally:
        await servers.stop()


@pytest.mark.asyncio(loop_scope="session")
async def test_no_request_fails_right_after_a_model_server_dies(
    two_servers: tuple[ModelServers, RunningStack],
) -> None:
    servers, running = two_servers
    dead, alive = servers.addresses
    async with httpx.AsyncClient(base_url=running.gateway, timeout=30.0, trust_env=False) as client:
        warm = [await client.post("/v1/completions", json=BODY) for _ in range(4)]
        assert [r.status_code for r in warm] == [200] * 4
        await servers.kill(dead)  # the picker's view still has it, with its last metrics
        semaphore = asyncio.Semaphore(4)

        async def one() -> httpx.Response:
            async with semaphore:
                return await client.post("/v1/completions", json=BODY)

        responses = await asyncio.gather(*(one() for _ in range(40)))
    failed = [(r.status_code, r.text[:200]) for r in responses if r.status_code != 200]
    assert failed == []
    assert {r.headers.get("x-served-by") for r in responses} == {alive}
