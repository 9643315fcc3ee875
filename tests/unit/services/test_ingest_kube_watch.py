"""The watcher (informer) against a scripted API: resume, 410 relist with the
difference, errors with backoff, selector changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from gie_ingest.kube.backoff import Backoff
from gie_ingest.kube.errors import WatchFailed
from gie_ingest.kube.watch import Watcher, WatchEvent, WatchMetrics


def obj(name: str, version: int) -> dict[str, Any]:
    return {"metadata": {"namespace": "ns", "name": name, "resourceVersion": str(version)}}


class ScriptedApi:
    """Answers list and watch calls from scripts; records what was asked."""

    name = "pods"

    def __init__(self) -> None:
        self.lists: list[tuple[list[dict[str, Any]], str] | Exception] = []
        self.watches: list[list[dict[str, Any]] | Exception] = []
        self.calls: list[tuple[str, str | None, str | None]] = []
        self.done = asyncio.Event()

    async def list(self, *, label_selector: str | None) -> tuple[list[dict[str, Any]], str]:
        self.calls.append(("list", None, label_selector))
        answer = self.lists.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def watch(
        self, *, resource_version: str, label_selector: str | None, timeout_s: int
    ) -> AsyncIterator[dict[str, Any]]:
        self.calls.append(("watch", resource_version, label_selector))
        if not self.watches:
            self.done.set()
            await asyncio.Event().wait()
        script = self.watches.pop(0)
        if isinstance(script, Exception):
            raise script
        for event in script:
            yield event


class Harness:
    def __init__(self, api: ScriptedApi, **options: Any) -> None:
        self.seen: list[tuple[str, str]] = []
        self.sleeps: list[float] = []
        self.registry = CollectorRegistry()

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        self.watcher = Watcher(
            api,
            handler=self._on,
            metrics=WatchMetrics(self.registry),
            backoff=Backoff(initial_s=1.0, maximum_s=4.0, jitter=lambda: 1.0),
            sleep=sleep,
            **options,
        )

    def _on(self, event: WatchEvent) -> None:
        self.seen.append((event.type, event.obj["metadata"]["name"]))

    def metric(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, labels)
        return value or 0.0


async def run_until_idle(api: ScriptedApi, harness: Harness) -> None:
    task = asyncio.create_task(harness.watcher.run())
    await asyncio.wait_for(api.done.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_resumes_from_the_last_version_after_a_dropped_connection() -> None:
    api = ScriptedApi()
    api.lists = [([obj("a", 1)], "5")]
    api.watches = [
        [{"type": "ADDED", "object": obj("b", 6)}, {"type": "BOOKMARK", "object": obj("", 9)}],
        WatchFailed("reset by peer", reason="connection"),
        [{"type": "DELETED", "object": obj("a", 10)}],
    ]
    harness = Harness(api)
    await run_until_idle(api, harness)
    assert harness.seen == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]
    assert [c[1] for c in api.calls if c[0] == "watch"] == ["5", "9", "9", "10"]
    assert harness.sleeps == [1.0]  # one backoff after the failure
    assert (
        harness.metric("gie_ingest_kube_watch_errors_total", resource="pods", reason="connection")
        == 1
    )
    assert sorted(harness.watcher.cache) == ["ns/b"]


async def test_a_410_relists_and_reports_only_the_difference() -> None:
    api = ScriptedApi()
    api.lists = [
        ([obj("a", 1), obj("b", 2), obj("c", 3)], "3"),
        ([obj("a", 1), obj("b", 7), obj("d", 8)], "9"),  # c went, b changed, d came
    ]
    api.watches = [[{"type": "ERROR", "object": {"code": 410, "message": "too old"}}]]
    harness = Harness(api)
    await run_until_idle(api, harness)
    assert harness.seen[3:] == [("DELETED", "c"), ("MODIFIED", "b"), ("ADDED", "d")]
    assert harness.sleeps == []  # a relist is not an error to back off from
    assert harness.metric("gie_ingest_kube_relists_total", resource="pods", cause="expired") == 1
    assert api.calls[-1] == ("watch", "9", None)


async def test_failures_back_off_exponentially_up_to_the_maximum_and_reset() -> None:
    api = ScriptedApi()
    failure = WatchFailed("HTTP 500", reason="http")
    api.lists = [failure, failure, failure, failure, ([obj("a", 1)], "1")]
    api.watches = [failure]
    harness = Harness(api)
    await run_until_idle(api, harness)
    assert harness.sleeps == [1.0, 2.0, 4.0, 4.0, 1.0]  # reset by the successful list
    assert harness.seen == [("ADDED", "a")]
    assert harness.metric("gie_ingest_kube_relists_total", resource="pods", cause="error") == 1


def test_backoff_jitter_draws_between_half_and_all_of_the_delay() -> None:
    low = Backoff(initial_s=2.0, maximum_s=8.0, jitter=lambda: 0.0)
    assert [low.next() for _ in range(4)] == [1.0, 2.0, 4.0, 4.0]


async def test_a_new_selector_relists_and_reports_who_left_and_joined() -> None:
    api = ScriptedApi()
    api.lists = [([obj("a", 1), obj("b", 2)], "2"), ([obj("b", 2), obj("c", 3)], "4")]
    harness = Harness(api, label_selector="app=x", selector_required=True)
    task = asyncio.create_task(harness.watcher.run())
    await asyncio.wait_for(api.done.wait(), 5)
    assert harness.watcher.current
    api.done.clear()
    harness.watcher.retarget("app=y")
    assert not harness.watcher.current
    await asyncio.wait_for(api.done.wait(), 5)
    assert harness.watcher.current
    assert harness.seen == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a"), ("ADDED", "c")]
    assert [c for c in api.calls if c[0] == "list"] == [
        ("list", None, "app=x"),
        ("list", None, "app=y"),
    ]
    harness.watcher.retarget(None)  # no pool: nothing is watched, the cache empties
    for _ in range(100):
        if not harness.watcher.cache:
            break
        await asyncio.sleep(0.01)
    assert harness.seen[-2:] == [("DELETED", "b"), ("DELETED", "c")]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
