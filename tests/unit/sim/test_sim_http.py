"""Real aiohttp servers on 127.0.0.1, spoken to over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gie_sim import SERVED_BY_HEADER, SimConfig, SimServer, run_servers

FAST = SimConfig(time_scale=0.0, block_size=16)


@pytest.fixture
async def server() -> AsyncIterator[SimServer]:
    async with run_servers(count=1, config=FAST) as servers:
        yield servers[0]


@pytest.fixture
async def client(server: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


def _metrics(text: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_servers_have_distinct_identities() -> None:
    async with run_servers(count=3, config=FAST) as servers:
        addresses = [s.address for s in servers]
        assert len(set(addresses)) == 3
        async with httpx.AsyncClient(timeout=10) as http:
            for s in servers:
                response = await http.get(f"{s.url}/health")
                assert response.status_code == 200
                assert response.headers[SERVED_BY_HEADER] == s.address


async def test_json_completion_has_usage_and_identity(
    client: httpx.AsyncClient, server: SimServer
) -> None:
    response = await client.post(
        "/v1/completions", json={"model": "sim-llama", "prompt": "a" * 400, "max_tokens": 7}
    )
    assert response.status_code == 200
    assert response.headers[SERVED_BY_HEADER] == server.address
    body = response.json()
    assert body["object"] == "text_completion"
    assert body["model"] == "sim-llama"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["text"]
    assert body["usage"] == {
        "prompt_tokens": 101,
        "completion_tokens": 7,
        "total_tokens": 108,
        "prompt_tokens_details": {"cached_tokens": 0},
    }


async def test_sse_stream_yields_tokens_then_usage_then_done(client: httpx.AsyncClient) -> None:
    payload = {
        "prompt": "hello",
        "max_tokens": 5,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    async with client.stream("POST", "/v1/completions", json=payload) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert SERVED_BY_HEADER in response.headers
        events = [line[6:] async for line in response.aiter_lines() if line.startswith("data: ")]

    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    tokens, usage = chunks[:-1], chunks[-1]
    assert len(tokens) == 5
    assert all(c["object"] == "text_completion" and len(c["choices"]) == 1 for c in tokens)
    assert [c["choices"][0]["finish_reason"] for c in tokens] == [None] * 4 + ["length"]
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == 5


@pytest.mark.parametrize(
    "options", [{}, {"stream_options": {"include_usage": False}}], ids=["unasked", "off"]
)
async def test_streaming_usage_comes_only_when_asked(
    client: httpx.AsyncClient, options: dict[str, object]
) -> None:
    payload = {
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 3,
        "stream": True,
        **options,
    }
    async with client.stream("POST", "/v1/chat/completions", json=payload) as response:
        events = [line[6:] async for line in response.aiter_lines() if line.startswith("data: ")]
    chunks = [json.loads(event) for event in events[:-1]]
    assert events[-1] == "[DONE]"
    assert len(chunks) == 3
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "usage" not in chunks[-1]


async def test_chat_completion(client: httpx.AsyncClient) -> None:
    payload = {
        "model": "sim-llama",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [{"type": "text", "text": "Say hi"}]},
        ],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "max_completion_tokens": 4,
    }
    response = await client.post("/v1/chat/completions", json=payload)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant"
    assert message["content"]
    assert body["usage"]["completion_tokens"] == 4
    assert body["usage"]["prompt_tokens"] > 10


@pytest.mark.parametrize(
    ("call", "status", "fragment"),
    [
        (("POST", "/v1/completions", b'{"prompt": "x"'), 400, "not valid JSON"),
        (("POST", "/v1/completions", b'{"max_tokens": 3}'), 400, "'prompt'"),
        (("POST", "/v1/chat/completions", b'{"prompt": "x"}'), 400, "'messages'"),
        (("POST", "/v1/completions", b'{"prompt": "x", "model": "other"}'), 404, "other"),
        (("POST", "/v1/completions", b'{"prompt": "x", "max_tokens": 200000}'), 400, "context"),
        (
            (
                "POST",
                "/v1/completions",
                b'{"prompt": "x", "stream_options": {"include_usage": true}}',
            ),
            400,
            "'stream_options'",
        ),
        (("GET", "/nope", b""), 404, "Not Found"),
        (("GET", "/v1/completions", b""), 405, "Not Allowed"),
    ],
)
async def test_errors_are_openai_json_with_identity(
    client: httpx.AsyncClient,
    server: SimServer,
    call: tuple[str, str, bytes],
    status: int,
    fragment: str,
) -> None:
    method, path, content = call
    response = await client.request(method, path, content=content)
    assert response.status_code == status
    assert response.headers[SERVED_BY_HEADER] == server.address
    error = response.json()["error"]
    assert error["code"] == status
    assert fragment in error["message"]


async def test_models_endpoint(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/models")).json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["sim-llama"]


async def test_repeated_long_prompt_is_served_from_prefix_cache(
    client: httpx.AsyncClient,
) -> None:
    prompt = "The same long system prompt. " * 40
    first = (await client.post("/v1/completions", json={"prompt": prompt})).json()
    second = (await client.post("/v1/completions", json={"prompt": prompt})).json()
    assert first["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    cached = second["usage"]["prompt_tokens_details"]["cached_tokens"]
    assert cached > 0
    assert cached % 16 == 0
    assert cached >= second["usage"]["prompt_tokens"] - 16

    metrics = _metrics((await client.get("/metrics")).text)
    assert metrics["vllm:prefix_cache_hits_total"] == cached
    assert metrics["vllm:prefix_cache_queries_total"] == 2 * first["usage"]["prompt_tokens"]


async def test_metrics_page_has_vllm_names(client: httpx.AsyncClient, server: SimServer) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers[SERVED_BY_HEADER] == server.address
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    for name in (
        "vllm:num_requests_waiting",
        "vllm:num_requests_running",
        "vllm:kv_cache_usage_perc",
        "vllm:cache_config_info",
    ):
        assert families[name].type == "gauge"
        assert families[name].samples[0].labels["model_name"] == "sim-llama"
    for name in (
        "vllm:prefix_cache_hits",
        "vllm:prefix_cache_queries",
        "vllm:request_success",
        "vllm:prompt_tokens",
        "vllm:generation_tokens",
    ):
        assert families[name].type == "counter"
    info = families["vllm:cache_config_info"].samples[0]
    assert info.value == 1
    assert info.labels["block_size"] == "16"
    assert info.labels["num_gpu_blocks"] == str(FAST.num_gpu_blocks)


async def test_overload_shows_waiting_requests_in_metrics() -> None:
    slow = SimConfig(max_num_seqs=1, decode_itl_ms=5.0, decode_itl_per_seq_ms=0.0)
    async with (
        run_servers(config=slow) as servers,
        httpx.AsyncClient(base_url=servers[0].url, timeout=30) as http,
    ):
        body = {"prompt": "hi", "max_tokens": 400}  # ~2 s each at time scale 1
        calls = [asyncio.create_task(http.post("/v1/completions", json=body)) for _ in range(3)]
        try:
            seen: dict[str, float] = {}
            for _ in range(200):
                seen = _metrics((await http.get("/metrics")).text)
                if seen["vllm:num_requests_waiting"] >= 1:
                    break
                await asyncio.sleep(0.01)
            assert seen["vllm:num_requests_waiting"] >= 1
            assert seen["vllm:num_requests_running"] == 1
            assert seen["vllm:kv_cache_usage_perc"] > 0
        finally:
            for call in calls:
                call.cancel()
            await asyncio.gather(*calls, return_exceptions=True)
        # Cancelled clients abort their requests server-side.
        for _ in range(200):
            seen = _metrics((await http.get("/metrics")).text)
            if seen["vllm:num_requests_running"] + seen["vllm:num_requests_waiting"] == 0:
                break
            await asyncio.sleep(0.01)
        assert seen["vllm:num_requests_running"] + seen["vllm:num_requests_waiting"] == 0


async def test_server_usable_directly_as_context_manager() -> None:
    async with SimServer(FAST, port=0) as direct, httpx.AsyncClient(timeout=10) as http:
        response = await http.post(f"{direct.url}/v1/completions", json={"prompt": "x"})
    assert response.json()["usage"]["completion_tokens"] == 16
