"""The lock-free hot-path metrics expose what prometheus_client's would."""

from __future__ import annotations

import threading

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from gie.telemetry.loop_metrics import LoopCounter, LoopGauge, LoopHistogram


def _page(registry: CollectorRegistry) -> list[str]:
    """The exposition lines, without prometheus_client's ``_created`` samples."""
    lines = generate_latest(registry).decode().splitlines()
    kept, skip = [], False
    for line in lines:
        if line.startswith(("# HELP", "# TYPE")):
            skip = line.split()[2].endswith("_created")
        if not skip:
            kept.append(line)
    return kept


def test_exposition_matches_prometheus_client() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    pairs = (
        (
            LoopHistogram("t_seconds", "h", ["a"], buckets=(0.1, 1, 16), registry=ours),
            Histogram("t_seconds", "h", ["a"], buckets=(0.1, 1, 16), registry=theirs),
        ),
        (
            LoopCounter("t_requests_total", "c", ["b", "c"], registry=ours),
            Counter("t_requests_total", "c", ["b", "c"], registry=theirs),
        ),
        (LoopGauge("t_running", "g", registry=ours), Gauge("t_running", "g", registry=theirs)),
    )
    (hist, their_hist), (count, their_count), (gauge, their_gauge) = pairs
    for value in (0.0, 0.05, 0.1, 0.5, 1.0, 3.0, 16.0, 100.0):
        hist.labels("x").observe(value)
        their_hist.labels("x").observe(value)
    count.labels("1", "2").inc()
    count.labels("1", "2").inc(2.5)
    their_count.labels("1", "2").inc(3.5)
    gauge.inc(3)
    gauge.dec()
    their_gauge.set(2)
    assert _page(ours) == _page(theirs)
    assert ours.get_sample_value("t_seconds_bucket", {"a": "x", "le": "1.0"}) == 5.0
    assert ours.get_sample_value("t_requests_total", {"b": "1", "c": "2"}) == 3.5


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda r: LoopHistogram("h", "d", buckets=(1.0, 0.5), registry=r), "ascending"),
        (lambda r: LoopHistogram("h", "d", ["le"], registry=r), "'le' is reserved"),
        (lambda r: LoopCounter("bad name", "d", registry=r), "name"),
    ],
    ids=["unsorted-buckets", "le-label", "bad-name"],
)
def test_bad_definitions_are_refused(build: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        build(CollectorRegistry())  # type: ignore[operator]


def test_label_misuse_and_negative_increments_are_errors() -> None:
    registry = CollectorRegistry()
    counter = LoopCounter("c_total", "d", ["endpoint"], registry=registry)
    with pytest.raises(ValueError, match=r"takes labels \['endpoint'\]"):
        counter.labels("a", "b")
    with pytest.raises(ValueError, match="use labels"):
        counter.inc()
    with pytest.raises(ValueError, match="negative"):
        counter.labels("a").inc(-1)
    with pytest.raises(ValueError, match="Duplicated"):
        LoopCounter("c_total", "again", registry=registry)


def test_labels_given_as_numbers_share_one_child() -> None:
    registry = CollectorRegistry()
    counter = LoopCounter("codes_total", "d", ["code"], registry=registry)
    counter.labels(429).inc()  # type: ignore[arg-type]
    counter.labels("429").inc()
    assert registry.get_sample_value("codes_total", {"code": "429"}) == 2.0


def test_a_scrape_on_another_thread_sees_whole_monotonic_counts() -> None:
    registry = CollectorRegistry()
    hist = LoopHistogram("d_seconds", "d", buckets=(0.5,), registry=registry).labels()
    stop = threading.Event()
    counts: list[float] = []

    def scrape() -> None:
        while not stop.is_set():
            counts.append(registry.get_sample_value("d_seconds_count") or 0.0)

    scraper = threading.Thread(target=scrape)
    scraper.start()
    try:
        for _ in range(200_000):
            hist.observe(0.25)
    finally:
        stop.set()
        scraper.join()
    assert counts == sorted(counts)
    assert registry.get_sample_value("d_seconds_count") == 200_000.0
    assert registry.get_sample_value("d_seconds_bucket", {"le": "0.5"}) == 200_000.0
