"""One endpoint's scrape loop and the supervisor that runs them."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import datetime

import pytest
from collector_fakes import FakeClock
from prometheus_client import CollectorRegistry

from gie.events import Endpoint, EndpointMetrics
from gie_metrics_collector.errors import FetchError
from gie_metrics_collector.scrape import (
    EndpointScraper,
    ScrapeMetrics,
    ScraperFactory,
    ScrapeSupervisor,
    ScrapeTarget,
    ScrapeTiming,
)
from gie_metrics_collector.signals import BUILTIN_SPECS, Flavour, SignalReader

ADDRESS = "10.0.0.1:8000"


def page(waiting: int) -> bytes:
    return f"vllm:num_requests_waiting {waiting}\nvllm:kv_cache_usage_perc 0.5\n".encode()


class ScriptedFetcher:
    """Returns (or raises) the scripted outcomes in order, then repeats the last."""

    def __init__(self, outcomes: Sequence[bytes | Exception]) -> None:
        self.outcomes = list(outcomes)
        self.closed = False

    async def fetch(self) -> bytes:
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def close(self) -> None:
        self.closed = True


class Sink:
    def __init__(self) -> None:
        self.seen: list[tuple[str, EndpointMetrics, datetime]] = []

    def observe(self, address: str, metrics: EndpointMetrics, *, scraped_at: datetime) -> None:
        self.seen.append((address, metrics, scraped_at))


def scraper(
    fetcher: ScriptedFetcher, clock: FakeClock, sink: Sink, registry: CollectorRegistry
) -> EndpointScraper:
    return EndpointScraper(
        ADDRESS,
        fetcher=fetcher,
        reader=SignalReader(BUILTIN_SPECS, pinned=Flavour.VLLM),
        sink=sink,
        timing=ScrapeTiming(interval_s=0.05),
        clock=clock,
        metrics=ScrapeMetrics(registry),
    )


async def test_failures_keep_the_last_good_values_which_age(clock: FakeClock) -> None:
    registry, sink = CollectorRegistry(), Sink()
    outcomes: list[bytes | Exception] = [
        page(3),
        FetchError("timeout", "slow"),
        b"<html>oops</html>\n",
        page(4),
    ]
    loop = scraper(ScriptedFetcher(outcomes), clock, sink, registry)
    assert await loop.scrape_once()
    clock.advance(1.0)
    assert not await loop.scrape_once()
    assert not await loop.scrape_once()
    record = loop.record
    assert record.last_good is not None and record.last_good.waiting_queue_size == 3
    assert record.age_s(clock.monotonic()) == pytest.approx(1.0)
    assert (record.consecutive_failures, record.last_error_reason) == (2, "garbage")
    assert await loop.scrape_once()
    assert [m.waiting_queue_size for _, m, _ in sink.seen] == [3, 4]
    assert record.consecutive_failures == 0
    for reason in ("timeout", "garbage"):
        value = registry.get_sample_value("gie_collector_scrape_errors_total", {"reason": reason})
        assert value == 1.0
    assert registry.get_sample_value("gie_collector_scrapes_total", {"outcome": "ok"}) == 2.0


async def test_events_carry_the_time_the_scrape_started(clock: FakeClock) -> None:
    sink = Sink()
    loop = scraper(ScriptedFetcher([page(1)]), clock, sink, CollectorRegistry())
    started = clock.now()
    await loop.scrape_once()
    assert sink.seen[0][2] == started


@pytest.mark.parametrize(
    ("failures", "low", "high"),
    [(0, 0.045, 0.055), (1, 0.09, 0.11), (3, 0.36, 0.44), (30, 1.8, 2.2)],
    ids=["healthy", "first-failure", "third-failure", "capped"],
)
def test_failing_endpoints_back_off_up_to_a_cap(failures: int, low: float, high: float) -> None:
    timing = ScrapeTiming(interval_s=0.05, jitter=0.1, backoff_max_s=2.0)
    rng = random.Random(7)
    periods = [timing.period(failures, rng) for _ in range(200)]
    assert low <= min(periods) and max(periods) <= high
    assert max(periods) - min(periods) > 0  # jitter spreads the loops


class CrashingFactory(ScraperFactory):
    """Builds loops whose first fetch hits a bug, later ones work."""

    def __init__(self, metrics: ScrapeMetrics) -> None:
        self.sink = Sink()
        self.builds = 0
        super().__init__(
            specs=BUILTIN_SPECS,
            default_flavour=Flavour.VLLM,
            target=ScrapeTarget(),
            timing=ScrapeTiming(interval_s=0.01),
            sink=self.sink,
            clock=FakeClock(),
            metrics=metrics,
        )

    def build(self, endpoint: Endpoint) -> EndpointScraper:
        self.builds += 1
        outcomes: list[bytes | Exception] = [RuntimeError("bug")] if self.builds == 1 else []
        return EndpointScraper(
            endpoint.address,
            fetcher=ScriptedFetcher([*outcomes, page(2)]),
            reader=SignalReader(BUILTIN_SPECS, pinned=Flavour.VLLM),
            sink=self.sink,
            timing=ScrapeTiming(interval_s=0.01),
            clock=FakeClock(),
            metrics=ScrapeMetrics(CollectorRegistry()),
        )


async def test_the_supervisor_runs_one_loop_per_endpoint_and_restarts_crashed_ones() -> None:
    registry = CollectorRegistry()
    metrics = ScrapeMetrics(registry)
    factory = CrashingFactory(metrics)
    stopped: list[str] = []
    supervisor = ScrapeSupervisor(
        factory, metrics=metrics, on_stopped=stopped.append, restart_s=0.05
    )
    supervisor.sync({ADDRESS: Endpoint(address=ADDRESS)})
    assert supervisor.addresses == [ADDRESS]
    for _ in range(100):
        if factory.sink.seen:
            break
        await asyncio.sleep(0.02)
    assert factory.builds == 2 and factory.sink.seen
    crashes = registry.get_sample_value("gie_collector_scrape_errors_total", {"reason": "internal"})
    assert crashes == 1.0
    supervisor.sync({})
    assert supervisor.addresses == [] and stopped == [ADDRESS]
    await supervisor.close()
