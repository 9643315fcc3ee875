"""The metrics-collector on real NATS, scraping real simulators of every flavour.

The collector runs as a task of the test's event loop (its ``run``); a "picker's view" is
a :class:`~gie.view.PoolView` folded from the same state stream a picker replays. Fault
modes are switched through each simulator's ``/sim/faults``, metric values through
``/sim/overrides``, as an operator or a benchmark would.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gie.bus import STATE, Deliver, NatsEventBus
from gie.events import Endpoint, EndpointUpserted, Event, PoolSaturationChanged
from gie.events.subjects import endpoint_subject, pool_filter
from gie.view import PoolView
from gie.view.staleness import metrics_age_s
from gie_cli.devstack.ports import free_port
from gie_metrics_collector.app import run
from gie_metrics_collector.settings import CollectorSettings
from gie_sim import SimConfig, SimServer, run_servers

pytestmark = pytest.mark.integration

STALENESS_S = 0.5  # generous for a shared 2-core machine; the heartbeat is half of it


class PickerView:
    """What a picker replica sees: the pool's state stream folded into a view."""

    def __init__(self, pool: str) -> None:
        self.view = PoolView(pool)
        self.saturation: list[PoolSaturationChanged] = []

    def apply(self, event: Event) -> None:
        self.view.apply(event)
        if isinstance(event, PoolSaturationChanged):
            self.saturation.append(event)

    def age_s(self, address: str) -> float | None:
        state = self.view.get(address)
        return None if state is None else metrics_age_s(state, now=datetime.now(UTC))

    def fresh(self, address: str) -> bool:
        age = self.age_s(address)
        return age is not None and age < STALENESS_S


async def eventually(check: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout_s}s: {what}")


@contextlib.asynccontextmanager
async def pool_with(
    nats_url: str, tmp_path: Path, sims: list[SimServer], labels: list[dict[str, str]]
) -> AsyncIterator[tuple[PickerView, CollectorSettings]]:
    """Endpoints on the bus (as ingest publishes them), a collector, and a picker's view."""
    pool = f"it/collector-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "epp.yaml"
    config.write_text(f"saturationDetector:\n  metricsStalenessThreshold: {STALENESS_S}s\n")
    settings = CollectorSettings(
        nats_url=nats_url,
        pool=pool,
        admin_port=free_port(),
        log_format="console",
        instance_id=f"collector-{pool[-8:]}",
        scrape_timeout_s=0.5,
        scrape_backoff_max_s=0.4,
        membership_bucket=f"it-{pool[-8:]}",
        config_file=config,
    )
    picker = PickerView(pool)
    stop = asyncio.Event()
    async with NatsEventBus(nats_url, name="it-observer") as bus:
        await bus.ensure_streams()
        for sim, extra in zip(sims, labels, strict=True):
            endpoint = Endpoint(address=sim.address, labels=extra)
            await bus.publish(
                endpoint_subject(pool, sim.address),
                EndpointUpserted(source="it", pool=pool, endpoint=endpoint),
            )
        await bus.follow(STATE, pool_filter(pool), picker.apply, deliver=Deliver.LAST_PER_SUBJECT)
        task = asyncio.create_task(run(settings, stop))
        try:
            yield picker, settings
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)


async def admin(settings: CollectorSettings, path: str) -> Any:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"http://127.0.0.1:{settings.admin_port}{path}")
    return response.json() if path.startswith("/debug") else response.text


def error_counts(page: str) -> dict[str, float]:
    return {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(page)
        if family.name == "gie_collector_scrape_errors"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


async def control(sim: SimServer, path: str, body: dict[str, object]) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.post(f"{sim.url}{path}", json=body)
    response.raise_for_status()


async def test_metric_values_of_every_flavour_reach_a_pickers_view(
    nats_url: str, tmp_path: Path
) -> None:
    configs = [
        SimConfig(time_scale=0.0, flavour="vllm", block_size=16),
        SimConfig(time_scale=0.0, flavour="sglang", block_size=32),
        SimConfig(time_scale=0.0, flavour="trtllm", block_size=64),
    ]
    labels = [
        {},  # recognised from its page
        {"llm-d.ai/engine-type": "sglang"},
        {"inference.networking.k8s.io/engine-type": "triton-tensorrt-llm"},
    ]
    async with (
        run_servers(config=configs) as sims,
        pool_with(nats_url, tmp_path, sims, labels) as (
            picker,
            _settings,
        ),
    ):
        for waiting, sim in enumerate(sims, start=3):
            await control(sim, "/sim/overrides", {"waiting": waiting, "kv_cache_usage": 0.25})
        await control(sims[0], "/sim/overrides", {"waiting": 3, "lora_running": ["sql-lora"]})

        def shows(waiting: list[int]) -> bool:
            states = [picker.view.get(sim.address) for sim in sims]
            seen = [s.metrics.waiting_queue_size if s and s.metrics else None for s in states]
            return seen == waiting and all(picker.fresh(sim.address) for sim in sims)

        await eventually(lambda: shows([3, 4, 5]), "every endpoint's queue in the view")
        states = [picker.view.get(sim.address) for sim in sims]
        metrics = [s.metrics for s in states if s is not None and s.metrics is not None]
        assert [m.kv_block_size for m in metrics] == [16, 32, 64]
        assert all(m.kv_num_blocks == 26000 for m in metrics)
        assert metrics[1].kv_cache_usage == pytest.approx(0.25)
        assert metrics[0].lora_running == ("sql-lora",)

        # A change on one simulator shows up in the view, well within a staleness window.
        await control(sims[1], "/sim/overrides", {"waiting": 9})
        await eventually(lambda: shows([3, 9, 5]), "the new queue of the sglang endpoint", 2.0)


async def test_stale_and_garbage_endpoints_are_explicit_and_the_rest_is_served(
    nats_url: str, tmp_path: Path
) -> None:
    async with (
        run_servers(count=3, config=SimConfig(time_scale=0.0)) as sims,
        pool_with(nats_url, tmp_path, sims, [{}, {}, {}]) as (picker, settings),
    ):
        garbage, stopped, slow = sims
        await eventually(lambda: all(picker.fresh(s.address) for s in sims), "all fresh")
        await eventually(
            lambda: any(e.reason.startswith("capacity:") for e in picker.saturation),
            "the pool announced with capacity",
        )

        # Garbage pages: counted, the endpoint's last values age into staleness, and the
        # other endpoints are served on time, even next to a slow one.
        await control(garbage, "/sim/faults", {"mode": "garbage"})
        await control(slow, "/sim/faults", {"mode": "slow", "delay_ms": 5000})
        await eventually(
            lambda: not picker.fresh(garbage.address) and not picker.fresh(slow.address),
            "garbage and slow endpoints go stale",
        )
        for _ in range(10):
            assert picker.fresh(stopped.address)
            await asyncio.sleep(0.05)
        debug = await admin(settings, "/debug/collector")
        record = next(r for r in debug["scraped"] if r["address"] == garbage.address)
        assert record["last_error_reason"] == "garbage"
        assert record["last_good"]["waiting_queue_size"] == 0 and record["age_s"] > STALENESS_S

        # A stopped simulator goes stale too; with nothing fresh left the pool is
        # announced all-stale, not overloaded.
        await stopped.stop()
        await eventually(lambda: not picker.fresh(stopped.address), "stopped endpoint is stale")
        await eventually(
            lambda: picker.saturation[-1].reason.startswith("all-stale:"), "all-stale announced"
        )
        assert picker.saturation[-1].saturated

        await control(garbage, "/sim/faults", {"mode": "none"})
        await eventually(lambda: picker.fresh(garbage.address), "healed endpoint is fresh")
        await eventually(
            lambda: picker.saturation[-1].reason.startswith("capacity:"), "capacity again"
        )
        errors = error_counts(await admin(settings, "/metrics"))
        assert errors.get("garbage", 0) >= 1 and errors.get("timeout", 0) >= 1
        assert errors.get("unreachable", 0) + errors.get("bad_response", 0) >= 1
        await control(slow, "/sim/faults", {"mode": "none"})
