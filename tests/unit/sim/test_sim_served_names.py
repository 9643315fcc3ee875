"""A simulated server answering to several model names, as vLLM's --served-model-name."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from gie_sim import SimConfig, SimServer, run_servers
from gie_sim.__main__ import build_parser, split_names

NAMES = SimConfig(time_scale=0.0, model="base-weights", served_model_name=("llama", "llama-v2"))


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with (
        run_servers(count=1, config=NAMES) as servers,
        httpx.AsyncClient(base_url=servers[0].url, timeout=10) as http,
    ):
        yield http


def requests_by_model(page: str) -> dict[str, float]:
    return {
        sample.labels["model_name"]: sample.value
        for family in text_string_to_metric_families(page)
        if family.name == "gie_sim_requests"
        for sample in family.samples
    }


async def test_models_lists_every_served_name(client: httpx.AsyncClient) -> None:
    data = (await client.get("/v1/models")).json()["data"]
    assert [(m["id"], m["root"]) for m in data] == [
        ("llama", "base-weights"),
        ("llama-v2", "base-weights"),
    ]


@pytest.mark.parametrize("path", ["/v1/completions", "/v1/chat/completions"])
@pytest.mark.parametrize("name", ["llama", "llama-v2"])
async def test_each_name_is_served_and_echoed(
    client: httpx.AsyncClient, path: str, name: str
) -> None:
    body: dict[str, object] = {"model": name, "max_tokens": 2}
    if path == "/v1/completions":
        body["prompt"] = "hello"
    else:
        body["messages"] = [{"role": "user", "content": "hello"}]
    response = await client.post(path, json=body)
    assert response.status_code == 200
    assert response.json()["model"] == name


async def test_streamed_chunks_carry_the_requested_name(client: httpx.AsyncClient) -> None:
    body = {
        "model": "llama-v2",
        "prompt": "hello",
        "max_tokens": 2,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    response = await client.post("/v1/completions", json=body)
    frames = [line for line in response.text.splitlines() if line.startswith("data: {")]
    assert len(frames) == 3  # two tokens and the usage
    assert all('"model":"llama-v2"' in frame for frame in frames)


async def test_the_weights_name_and_unknown_names_get_vllms_404(
    client: httpx.AsyncClient,
) -> None:
    for name in ("base-weights", "mistral"):
        response = await client.post(
            "/v1/completions", json={"model": name, "prompt": "x", "max_tokens": 1}
        )
        assert response.status_code == 404
        assert response.json() == {
            "error": {
                "message": f"The model `{name}` does not exist.",
                "type": "NotFoundError",
                "param": "model",
                "code": 404,
            }
        }


async def test_a_request_without_model_is_answered_with_the_first_name(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/completions", json={"prompt": "x", "max_tokens": 1})
    assert response.json()["model"] == "llama"


async def test_metrics_count_requests_per_name_and_label_vllm_series_with_the_first(
    client: httpx.AsyncClient,
) -> None:
    for name in ("llama", "llama-v2", "llama-v2", "mistral"):
        await client.post("/v1/completions", json={"model": name, "prompt": "x", "max_tokens": 1})
    page = (await client.get("/metrics")).text
    assert requests_by_model(page) == {"llama": 1.0, "llama-v2": 2.0}  # the 404 not counted
    running = [
        sample.labels["model_name"]
        for family in text_string_to_metric_families(page)
        if family.name == "vllm:num_requests_running"
        for sample in family.samples
    ]
    assert running == ["llama"]


async def test_without_served_names_the_model_is_the_one_name() -> None:
    async with run_servers(count=1, config=SimConfig(time_scale=0.0, model="solo")) as servers:
        server: SimServer = servers[0]
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            data = (await http.get("/v1/models")).json()["data"]
            page = (await http.get("/metrics")).text
    assert [m["id"] for m in data] == ["solo"]
    assert requests_by_model(page) == {"solo": 0.0}


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--served-model-name", "a", "b"], ("a", "b")),
        (["--served-model-name", "a,b", "c"], ("a", "b", "c")),
        ([], ()),
    ],
    ids=["space-separated", "comma-separated", "absent"],
)
def test_cli_takes_names_as_vllm_does(argv: list[str], names: tuple[str, ...]) -> None:
    assert split_names(build_parser().parse_args(argv).served_model_name) == names


@pytest.mark.parametrize("names", [("a", ""), ("a", "a")], ids=["empty", "duplicate"])
def test_bad_names_are_refused_naming_the_field(names: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError, match="served_model_name"):
        SimConfig(served_model_name=names)
