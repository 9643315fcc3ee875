"""Fallback endpoints and shedding, through the real gateway."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
import pytest_asyncio

from gie.devstack import PartStartError, StackOptions, start_stack
from gie.devstack.stack import RunningStack
from tests.e2e.conftest import E2E_FALLBACKS, E2EStack

pytestmark = pytest.mark.e2e

BODY = {"model": "sim-llama", "prompt": "hello", "max_tokens": 1}


def access_log_entry(stack: E2EStack, request_id: str) -> dict[str, str]:
    """The request's access-log line (Envoy flushes the log about once a second)."""
    log = stack.state_dir / "logs" / "envoy-access.log"
    for _ in range(100):
        for line in log.read_text().splitlines() if log.exists() else []:
            entry: dict[str, str] = orjson.loads(line)
            if entry.get("request_id") == request_id:
                return entry
        time.sleep(0.1)
    raise AssertionError(f"{request_id} not in the access log")


def test_destination_lists_primary_and_fallbacks_and_the_primary_serves(
    e2e_stack: E2EStack, gateway_client: httpx.Client
) -> None:
    request_id = uuid.uuid4().hex
    response = gateway_client.post(
        "/v1/completions", json=BODY, headers={"x-request-id": request_id}
    )
    assert response.status_code == 200
    destination = access_log_entry(e2e_stack, request_id)["destination"].split(",")
    assert len(destination) == E2E_FALLBACKS
    assert len(set(destination)) == E2E_FALLBACKS
    assert set(destination) <= set(e2e_stack.sims)
    assert response.headers["x-served-by"] == destination[0]


SATURATED_CONFIG = """\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
saturationDetector: {metricsStalenessThreshold: 1ns}
plugins:
- type: queue-scorer
"""


@pytest_asyncio.fixture(loop_scope="session")
async def saturated_stack(tmp_path: Path) -> AsyncIterator[RunningStack]:
    # Metrics are always older than 1 ns, so the pool always counts as saturated.
    config = tmp_path / "epp.yaml"
    config.write_text(SATURATED_CONFIG)
    options = StackOptions(
        state_dir=tmp_path / "stack",
        sims=2,
        time_scale=0.0,
        config_file=config,
        objectives={"batch": -1, "critical": 10},
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"stack did not start: {error}\n{error.log_tail}", pytrace=False)
    try:
        yield running
    finally:
        await running.stop()


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    ("objective", "status"),
    [("batch", 429), ("critical", 200), (None, 200)],
    ids=["sheddable-shed", "critical-served", "no-objective-served"],
)
async def test_saturated_pool_sheds_only_sheddable_requests(
    saturated_stack: RunningStack, objective: str | None, status: int
) -> None:
    headers = {"x-gateway-inference-objective": objective} if objective else {}
    async with httpx.AsyncClient(
        base_url=saturated_stack.gateway, timeout=30.0, trust_env=False
    ) as client:
        response = await client.post("/v1/completions", json=BODY, headers=headers)
    assert response.status_code == status
    if status == 429:
        assert "saturated" in response.json()["error"]["message"]
        assert "x-served-by" not in response.headers
