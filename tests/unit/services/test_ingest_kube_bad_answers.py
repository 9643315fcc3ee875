"""An API server (or a proxy in front of it) that answers what no rule foresaw: ingest's
watchers count and log it, back off and keep running; nothing crashes the service.

A real HTTP server on 127.0.0.1 stands for the API server; ingest talks to it with the
real kubernetes-asyncio client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web
from kubernetes_asyncio import client
from prometheus_client import CollectorRegistry

from gie_ingest.kube.backoff import Backoff
from gie_ingest.kube.discovery import serves
from gie_ingest.kube.errors import WatchFailed
from gie_ingest.kube.resource import ApiResource
from gie_ingest.kube.watch import Watcher, WatchMetrics

PODS = "/api/v1/namespaces/ns/pods"


async def api_for(app: web.Application) -> AsyncIterator[client.ApiClient]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    configuration = client.Configuration()
    configuration.host = f"http://127.0.0.1:{port}"
    api = client.ApiClient(configuration=configuration)
    try:
        yield api
    finally:
        await api.close()
        await runner.cleanup()


def answering(handler: Callable[[web.Request], web.StreamResponse]) -> web.Application:
    async def route(request: web.Request) -> web.StreamResponse:
        return handler(request)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", route)
    return app


LOGIN_PAGE = web.Response(text="<html>please log in</html>", content_type="text/html")


async def test_discovery_answered_by_a_login_page_is_a_watch_failure() -> None:
    async for api in api_for(answering(lambda _: LOGIN_PAGE)):
        with pytest.raises(WatchFailed, match="not JSON") as caught:
            await serves(api, "inference.networking.k8s.io", "v1", "inferencepools")
        assert caught.value.reason == "decode"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>please log in</html>", "list is not JSON"),
        (b"{}", "without a resourceVersion"),
        (b"[1, 2]", "without a resourceVersion"),
    ],
    ids=["html", "no-metadata", "not-an-object"],
)
async def test_a_list_that_is_no_list_is_a_watch_failure(body: bytes, problem: str) -> None:
    app = answering(lambda _: web.Response(body=body, content_type="application/json"))
    async for api in api_for(app):
        resource = ApiResource(api, name="pods", path_of=_pods_path)
        with pytest.raises(WatchFailed, match=problem):
            await resource.list(label_selector=None)


async def test_a_watch_that_ends_at_once_is_backed_off_and_one_not_json_is_retried() -> None:
    """A proxy that ends every watch at once with nothing in it would otherwise be asked
    again as fast as the loop turns; a watch line that is JSON but not an object
    (null) is a decode failure, not an AttributeError that ends the watcher."""
    watches = 0

    def pods(request: web.Request) -> web.Response:
        nonlocal watches
        if request.query.get("watch") != "true":
            return web.json_response({"items": [], "metadata": {"resourceVersion": "5"}})
        watches += 1
        body = b"null\n" if watches == 1 else b""
        return web.Response(body=body, content_type="application/json")

    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0.01)

    registry = CollectorRegistry()
    async for api in api_for(answering(pods)):
        watcher = Watcher(
            ApiResource(api, name="pods", path_of=_pods_path),
            handler=lambda _: None,
            metrics=WatchMetrics(registry),
            backoff=Backoff(),
            sleep=sleep,
        )
        task = asyncio.create_task(watcher.run())
        await asyncio.sleep(0.5)
        assert not task.done()  # still running
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    # Every watch (the first a decode failure, the others empty) was followed by a pause.
    assert watches >= 2 and len(sleeps) >= watches - 1
    errors = "gie_ingest_kube_watch_errors_total"
    assert registry.get_sample_value(errors, {"resource": "pods", "reason": "decode"}) == 1
    assert (
        registry.get_sample_value(errors, {"resource": "pods", "reason": "short-watch"}) or 0
    ) >= 1


async def test_a_watch_that_goes_silent_is_broken_off_not_waited_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A load balancer's failover can leave a watch on a connection that will never
    carry another byte and never close: past the silence limit it is a connection
    failure (the watcher relists), not a wait until the watch's own timeout."""
    monkeypatch.setattr("gie_ingest.kube.resource.WATCH_SILENCE_S", 0.3)
    release = asyncio.Event()

    async def pods(request: web.Request) -> web.StreamResponse:
        if request.query.get("watch") != "true":
            return web.json_response({"items": [], "metadata": {"resourceVersion": "5"}})
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"type": "BOOKMARK", "object": {}}\n')
        await release.wait()  # nothing more, the connection kept open
        return response

    app = web.Application()
    app.router.add_get(PODS, pods)
    async for api in api_for(app):
        resource = ApiResource(api, name="pods", path_of=_pods_path)
        await resource.list(label_selector=None)
        events = resource.watch(resource_version="5", label_selector=None, timeout_s=300)
        try:
            assert (await anext(events))["type"] == "BOOKMARK"
            started = asyncio.get_running_loop().time()
            with pytest.raises(WatchFailed, match="watch broke") as caught:
                await asyncio.wait_for(anext(events), 10)
            assert caught.value.reason == "connection"
            assert asyncio.get_running_loop().time() - started < 5
        finally:
            release.set()


async def _pods_path() -> str:
    return PODS
