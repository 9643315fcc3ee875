"""Good scrapes become EndpointMetricsObserved events only when worth it."""

from __future__ import annotations

from collector_fakes import FakeClock, RecordingOutbox

from gie.events import EndpointMetrics, EndpointMetricsObserved
from gie.events.subjects import metrics_subject
from gie_metrics_collector.publish import ChangePolicy, MetricsPublisher, PublishMetrics

POOL = "ns/pool"
ADDRESS = "10.0.0.1:8000"
IDLE = EndpointMetrics(waiting_queue_size=0, running_requests=0, kv_cache_usage=0.0)
BUSY = EndpointMetrics(waiting_queue_size=9, running_requests=8, kv_cache_usage=0.9)


def publisher(clock: FakeClock, outbox: RecordingOutbox) -> MetricsPublisher:
    return MetricsPublisher(
        pool=POOL,
        source="collector-a",
        policy=ChangePolicy(heartbeat_s=0.1, scrape_interval_s=0.05),
        outbox=outbox,
        clock=clock,
        metrics=PublishMetrics(),
    )


def test_an_idle_endpoint_costs_one_event_per_heartbeat(
    clock: FakeClock, outbox: RecordingOutbox
) -> None:
    sink = publisher(clock, outbox)
    for _ in range(40):  # two seconds of scrapes every 50 ms
        sink.observe(ADDRESS, IDLE, scraped_at=clock.now())
        clock.advance(0.05)
    assert 19 <= len(outbox.sent) <= 21  # about one every 100 ms, not one per scrape


def test_events_carry_the_scrape_time_and_go_to_the_endpoint_subject(
    clock: FakeClock, outbox: RecordingOutbox
) -> None:
    sink = publisher(clock, outbox)
    scraped_at = clock.now()
    clock.advance(0.01)
    sink.observe(ADDRESS, IDLE, scraped_at=scraped_at)
    sink.observe(ADDRESS, BUSY, scraped_at=clock.now())
    (subject, first), (_, second) = outbox.sent
    assert subject == metrics_subject(POOL, ADDRESS)
    assert isinstance(first, EndpointMetricsObserved) and isinstance(
        second, EndpointMetricsObserved
    )
    assert (first.scraped_at, first.metrics, first.source) == (scraped_at, IDLE, "collector-a")
    assert second.metrics == BUSY


def test_a_forgotten_endpoint_is_published_at_once_when_scraped_again(
    clock: FakeClock, outbox: RecordingOutbox
) -> None:
    sink = publisher(clock, outbox)
    sink.observe(ADDRESS, IDLE, scraped_at=clock.now())
    sink.forget(ADDRESS)
    sink.observe(ADDRESS, IDLE, scraped_at=clock.now())
    assert len(outbox.sent) == 2
