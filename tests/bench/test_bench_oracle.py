"""The oracle arm's router: it reads the simulated servers' caches and routes on the truth."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from bench.arms.oracle_router import OracleRouter, Reading, choose
from gie_cli.devstack import free_ports
from gie_sim import SimConfig, SimServer, run_servers

SMALL = SimConfig(time_scale=0.0, num_gpu_blocks=64)
PROMPT = "a long system prompt that one server holds " * 24


def reading(
    server: str, *, held: int, total: int = 10, waiting: int = 0, kv: float = 0.0
) -> Reading:
    body = {"prompt_blocks": total, "cached_blocks": held, "waiting": waiting, "kv_cache_usage": kv}
    return Reading(server, dict(body))


def test_the_longest_held_prefix_wins_at_equal_load() -> None:
    readings = [reading("a", held=2), reading("b", held=9), reading("c", held=0)]
    assert choose(readings, random.Random(0)) == "b"


def test_load_outweighs_a_short_prefix_as_in_gies_default_profile() -> None:
    # b holds 3 of 10 blocks (0.9) but has the longest queue (0 of 2) and a full cache.
    readings = [reading("a", held=0, waiting=0), reading("b", held=3, waiting=4, kv=0.9)]
    assert choose(readings, random.Random(0)) == "a"


def test_ties_are_broken_at_random() -> None:
    readings = [reading("a", held=0), reading("b", held=0)]
    rng = random.Random(1)
    assert {choose(readings, rng) for _ in range(40)} == {"a", "b"}


def test_a_reading_without_numbers_is_refused() -> None:
    with pytest.raises(ValueError, match="cached_blocks"):
        Reading("a", {"prompt_blocks": 3, "waiting": 0, "kv_cache_usage": 0.0})


@pytest_asyncio.fixture
async def servers() -> AsyncIterator[list[SimServer]]:
    async with run_servers(count=2, config=SMALL) as started:
        yield started


@pytest_asyncio.fixture
async def oracle(servers: list[SimServer]) -> AsyncIterator[str]:
    (port,) = free_ports(1)
    runner = web.AppRunner(OracleRouter([s.address for s in servers], seed=0).app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_routes_to_the_server_that_truly_holds_the_prompt(
    servers: list[SimServer], oracle: str
) -> None:
    body = {"prompt": PROMPT, "max_tokens": 2}
    async with httpx.AsyncClient(timeout=10) as http:
        for holder in servers:  # whichever server got the prompt behind the router's back
            await http.post(f"{holder.url}/reset_prefix_cache")
            direct = await http.post(f"{holder.url}/v1/completions", json=body)
            assert direct.status_code == 200
            for _ in range(3):
                routed = await http.post(f"{oracle}/v1/completions", json=body)
                assert routed.status_code == 200
                assert routed.headers["x-served-by"] == holder.address
                assert routed.json()["usage"]["prompt_tokens_details"]["cached_tokens"] > 0
            await http.post(f"{holder.url}/reset_prefix_cache")


async def test_streams_pass_through_and_errors_come_from_a_server(oracle: str) -> None:
    body = {
        "prompt": PROMPT,
        "max_tokens": 3,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    async with httpx.AsyncClient(timeout=10) as http:
        streamed = await http.post(f"{oracle}/v1/completions", json=body)
        assert streamed.status_code == 200
        assert streamed.headers["content-type"].startswith("text/event-stream")
        assert streamed.text.count("data: ") == 5 and streamed.text.endswith("data: [DONE]\n\n")
        refused = await http.post(f"{oracle}/v1/completions", json={"max_tokens": 3})
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "prompt"
        assert "x-served-by" in refused.headers
        models = await http.get(f"{oracle}/v1/models")
        assert models.json()["data"][0]["id"] == "sim-llama"
