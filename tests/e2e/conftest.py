"""End-to-end fixtures: the whole local stack (nats, redis, sims, services, Envoy).

``e2e_stack`` is session-scoped: one stack with three simulated servers (time scale
0.05) started through the :mod:`gie_cli.devstack` API and shared by every e2e test.
``gateway_client`` is an HTTP client whose base URL is the gateway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from gie_cli.devstack import (
    PartRecord,
    PartStartError,
    StackOptions,
    StackState,
    StackStatus,
    check_stack,
    start_stack,
)

E2E_SIMS = 3
E2E_TIME_SCALE = 0.05
E2E_MAX_BODY_BYTES = 1024 * 1024  # the picker's body limit in this stack
E2E_FALLBACKS = 2  # maxNumOfEndpoints: a primary and one fallback
E2E_CONFIG = f"""\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: max-score-picker
  parameters: {{maxNumOfEndpoints: {E2E_FALLBACKS}}}
schedulingProfiles:
- name: default
  plugins:
  - {{pluginRef: queue-scorer, weight: 2}}
  - {{pluginRef: kv-cache-utilization-scorer, weight: 2}}
  - {{pluginRef: max-score-picker}}
"""


@dataclass(frozen=True, kw_only=True)
class E2EStack:
    """A running local stack, as tests see it."""

    gateway: str  # http://127.0.0.1:PORT
    state: StackState  # what stack.json records (pids, addresses, logs)
    status: StackStatus  # health of every part right after start-up
    sims: list[str]  # ip:port of every simulated model server, sim-0 first
    state_dir: Path

    def part(self, name: str) -> PartRecord:
        for part in self.state.parts:
            if part.name == name:
                return part
        raise KeyError(name)

    def log(self, process: str) -> Path:
        """Log file of a process: nats, redis, sims, ingest, ..., picker, envoy."""
        return self.state.process(process).log


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def e2e_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[E2EStack]:
    config = tmp_path_factory.mktemp("e2e-config") / "epp.yaml"
    config.write_text(E2E_CONFIG)
    options = StackOptions(
        state_dir=tmp_path_factory.mktemp("e2e-stack"),
        config_file=config,
        objectives={"batch": -1, "critical": 10},
        sims=E2E_SIMS,
        time_scale=E2E_TIME_SCALE,
        test_hooks=True,  # subset hint and served endpoint from headers
        env={"GIE_MAX_BODY_BYTES": str(E2E_MAX_BODY_BYTES)},
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"local stack did not start: {error}\n{error.log_tail}", pytrace=False)
    try:
        yield E2EStack(
            gateway=running.gateway,
            state=running.state,
            status=await check_stack(running.state),
            sims=[p.addresses["endpoint"] for p in running.state.parts if p.kind == "sim"],
            state_dir=running.store.root,
        )
    finally:
        await running.stop()


@pytest.fixture
def gateway_client(e2e_stack: E2EStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=e2e_stack.gateway, timeout=30.0, trust_env=False) as client:
        yield client
