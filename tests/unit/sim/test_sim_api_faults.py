"""API fault modes of a simulated server, over real HTTP: refuse, reset, hang, 503."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gie_sim import SimConfig, SimServer, run_servers
from gie_sim.api_faults import ApiFaultMode, ApiFaults
from gie_sim.process_admin import ProcessAdmin

FAST = SimConfig(time_scale=0.0)
COMPLETION = {"prompt": "hello", "max_tokens": 4}


@pytest.fixture
async def server() -> AsyncIterator[SimServer]:
    async with run_servers(count=1, config=FAST) as servers:
        yield servers[0]


def _http(server: SimServer, timeout: float = 5.0) -> httpx.AsyncClient:
    # A fresh connection per client: a fault may have closed the last one.
    return httpx.AsyncClient(base_url=server.url, timeout=timeout, trust_env=False)


async def _faults_counted(server: SimServer) -> dict[str, float]:
    async with _http(server) as client:
        text = (await client.get("/metrics")).text
    return {
        sample.labels["mode"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "gie_sim_api_faults"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


async def test_http503_answers_completions_503_and_keeps_metrics(server: SimServer) -> None:
    async with _http(server) as client:
        set_reply = await client.post("/sim/api-faults", json={"mode": "http503"})
        assert set_reply.json()["mode"] == "http503"
    async with _http(server) as client:
        response = await client.post("/v1/completions", json=COMPLETION)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == 503
        assert response.headers["x-served-by"] == server.address
        assert (await client.get("/health")).status_code == 200
    assert (await _faults_counted(server))["http503"] == 1


async def test_reset_cuts_answers_and_streams(server: SimServer) -> None:
    await server.set_api_faults(ApiFaults(mode=ApiFaultMode.RESET, reset_after_chunks=1))
    async with _http(server) as client:
        with pytest.raises(httpx.TransportError):
            await client.post("/v1/completions", json=COMPLETION)
    body = {**COMPLETION, "stream": True, "max_tokens": 50}
    async with _http(server) as client, client.stream("POST", "/v1/completions", json=body) as r:
        assert r.status_code == 200
        with pytest.raises(httpx.TransportError):
            await r.aread()  # some tokens, then the connection is reset: no [DONE]
    assert (await _faults_counted(server))["reset"] == 2


async def test_hang_holds_every_route_until_healed(server: SimServer) -> None:
    await server.set_api_faults(ApiFaults(mode=ApiFaultMode.HANG))
    async with _http(server, timeout=0.3) as client:
        for path in ("/health", "/metrics"):
            with pytest.raises(httpx.ReadTimeout):
                await client.get(path)
        assert (await client.get("/sim/api-faults")).json()["mode"] == "hang"
    async with _http(server) as client:
        held = asyncio.create_task(client.post("/v1/completions", json=COMPLETION))
        await asyncio.sleep(0.2)
        assert not held.done()
        await server.set_api_faults(ApiFaults())
        assert (await held).status_code == 200  # answered once the server recovers


async def test_refuse_closes_the_port_and_healing_reopens_it(server: SimServer) -> None:
    async with _http(server) as client:
        reply = await client.post("/sim/api-faults", json={"mode": "refuse"})
        assert reply.json()["mode"] == "refuse"  # answered on the asking connection
    async with _http(server) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/health")
    await server.set_api_faults(ApiFaults())
    async with _http(server) as client:
        assert (await client.post("/v1/completions", json=COMPLETION)).status_code == 200


async def test_refuse_resets_open_connections(server: SimServer) -> None:
    async with _http(server) as client:
        assert (await client.get("/health")).status_code == 200  # a kept-alive connection
        await server.set_api_faults(ApiFaults(mode=ApiFaultMode.REFUSE))
        with pytest.raises(httpx.TransportError):
            await client.get("/health")
    await server.set_api_faults(ApiFaults())
    assert (await _faults_counted(server))["refuse"] == 1


async def test_a_fault_for_a_while_heals_by_itself(server: SimServer) -> None:
    await server.set_api_faults(ApiFaults(mode=ApiFaultMode.REFUSE, for_s=0.2))
    await asyncio.sleep(0.5)
    assert server.api_faults.mode is ApiFaultMode.NONE
    async with _http(server) as client:
        assert (await client.get("/health")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"mode": "crash"}, {"mode": "reset", "reset_after_chunks": -1}, {"for_s": 0}, {"x": 1}],
    ids=["unknown-mode", "negative-chunks", "zero-for", "unknown-field"],
)
async def test_bad_fault_bodies_are_refused(server: SimServer, body: dict[str, object]) -> None:
    async with _http(server) as client:
        response = await client.post("/sim/api-faults", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "BadRequestError"
    assert server.api_faults.mode is ApiFaultMode.NONE


async def test_the_process_admin_reaches_a_refusing_server() -> None:
    async with run_servers(count=2, config=FAST) as servers:
        admin = ProcessAdmin(servers, host="127.0.0.1", port=0)
        await admin.start()
        try:
            base = f"http://{admin.address}/sim/servers"
            async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
                listed = (await client.get(base)).json()["servers"]
                assert [s["address"] for s in listed] == [s.address for s in servers]
                target = f"{base}/{servers[0].address}/api-faults"
                assert (await client.post(target, json={"mode": "refuse"})).status_code == 200
                assert servers[0].api_faults.mode is ApiFaultMode.REFUSE
                assert (await client.post(target, json={"mode": "none"})).status_code == 200
                metrics = f"{base}/{servers[1].address}/faults"
                assert (await client.post(metrics, json={"mode": "http500"})).status_code == 200
                assert servers[1].faults.mode == "http500"
                unknown = await client.post(f"{base}/10.9.9.9:1/api-faults", json={})
                assert unknown.status_code == 404
                assert "10.9.9.9:1" in unknown.json()["error"]["message"]
            async with _http(servers[0]) as client:
                assert (await client.get("/health")).status_code == 200
        finally:
            await admin.stop()
