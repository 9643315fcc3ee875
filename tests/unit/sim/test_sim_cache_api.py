"""``/sim/kv-cache``: reading what a simulated server's prefix cache truly holds, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gie_sim import SimConfig, SimServer, run_servers

SMALL = SimConfig(time_scale=0.0, block_size=16, num_gpu_blocks=40)
PROMPT = "the shared system prompt of one conversation " * 20  # 900 chars, 226 tokens


@pytest.fixture
async def server() -> AsyncIterator[SimServer]:
    async with run_servers(count=1, config=SMALL) as servers:
        yield servers[0]


@pytest.fixture
async def client(server: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


async def _complete(client: httpx.AsyncClient, prompt: str) -> dict[str, object]:
    response = await client.post("/v1/completions", json={"prompt": prompt, "max_tokens": 2})
    assert response.status_code == 200, response.text
    usage: dict[str, object] = response.json()["usage"]
    return usage


async def test_match_says_how_much_of_a_prompt_the_next_request_would_hit(
    client: httpx.AsyncClient,
) -> None:
    body = {"prompt": PROMPT, "max_tokens": 2}
    cold = (await client.post("/sim/kv-cache/match", json=body)).json()
    assert cold["prompt_tokens"] == 226  # BOS + 900 / 4
    assert (cold["prompt_blocks"], cold["cached_blocks"], cold["cached_tokens"]) == (14, 0, 0)
    await _complete(client, PROMPT)
    warm = (await client.post("/sim/kv-cache/match", json=body)).json()
    assert (warm["cached_blocks"], warm["cached_tokens"]) == (14, 224)
    # The prediction is what the server then reports for the same prompt.
    usage = await _complete(client, PROMPT)
    assert usage["prompt_tokens_details"] == {"cached_tokens": warm["cached_tokens"]}
    assert (warm["waiting"], warm["running"], warm["kv_cache_usage"]) == (0, 0, 0.0)


async def test_match_tokenizes_chat_bodies_like_the_chat_route(client: httpx.AsyncClient) -> None:
    chat = {"messages": [{"role": "system", "content": PROMPT}, {"role": "user", "content": "hi"}]}
    response = await client.post("/v1/chat/completions", json={**chat, "max_tokens": 2})
    assert response.status_code == 200
    match = (await client.post("/sim/kv-cache/match", json=chat)).json()
    assert match["cached_blocks"] == match["prompt_blocks"] > 0
    # The same text as a completion prompt is tokenized differently: no match.
    text = (await client.post("/sim/kv-cache/match", json={"prompt": PROMPT})).json()
    assert text["cached_blocks"] == 0


async def test_contents_list_the_held_blocks_and_forget_evicted_ones(
    client: httpx.AsyncClient, server: SimServer
) -> None:
    empty = (await client.get("/sim/kv-cache")).json()
    assert empty == {
        "block_size": 16,
        "num_gpu_blocks": 40,
        "in_use_blocks": 0,
        "cached_blocks": 0,
        "block_hashes": [],
    }
    await _complete(client, PROMPT)
    held = (await client.get("/sim/kv-cache")).json()
    assert held["cached_blocks"] == len(held["block_hashes"]) == 14
    assert all(server.prefix_cache.contains(bytes.fromhex(h)) for h in held["block_hashes"])
    # Three other prompts of 14 blocks do not fit beside it in 40 blocks: it is evicted.
    for tag in ("one", "two", "three"):
        await _complete(client, f"another conversation number {tag} ".ljust(900, "x"))
    after = (await client.get("/sim/kv-cache")).json()
    assert not set(held["block_hashes"]) & set(after["block_hashes"])
    match = (await client.post("/sim/kv-cache/match", json={"prompt": PROMPT})).json()
    assert match["cached_blocks"] == 0


async def test_match_rejects_a_body_without_a_prompt(client: httpx.AsyncClient) -> None:
    response = await client.post("/sim/kv-cache/match", json={"max_tokens": 2})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"


async def test_tools_nested_too_deeply_are_a_400_naming_them(client: httpx.AsyncClient) -> None:
    # Deeper than the interpreter's recursion limit renders, within what orjson parses.
    tools = "[" * 1000 + "1" + "]" * 1000
    body = '{"messages": [{"role": "user", "content": "hi"}], "tools": [' + tools + "]}"
    for path in ("/sim/kv-cache/match", "/v1/chat/completions"):
        response = await client.post(path, content=body)
        assert response.status_code == 400, path
        assert response.json()["error"]["param"] == "tools"
