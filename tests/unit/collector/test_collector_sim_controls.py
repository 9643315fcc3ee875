"""The simulator the collector is tested against: flavoured pages, run-time faults and
overrides through ``/sim/*``, and the CLI flags that set them at start."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gie_sim import SimConfig, SimServer, run_servers
from gie_sim.__main__ import build_parser


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with run_servers(count=1, config=SimConfig(time_scale=0.0)) as servers:
        yield servers[0]


@pytest.mark.parametrize(
    ("flavour", "names"),
    [
        ("vllm", {"vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"}),
        ("sglang", {"sglang:num_queue_reqs", "sglang:token_usage", "sglang:num_running_reqs"}),
        ("trtllm", {"nv_trt_llm_request_metrics", "nv_trt_llm_kv_cache_block_metrics"}),
    ],
)
async def test_each_flavour_serves_a_valid_page_with_its_names(
    flavour: str, names: set[str]
) -> None:
    config = SimConfig.model_validate({"flavour": flavour, "time_scale": 0.0})
    async with run_servers(count=1, config=config) as [server], httpx.AsyncClient() as http:
        text = (await http.get(f"{server.url}/metrics")).text
    assert names <= {family.name for family in text_string_to_metric_families(text)}


async def test_faults_switch_at_run_time_and_heal(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as http:
        assert (await http.get("/sim/faults")).json()["mode"] == "none"
        answer = await http.post("/sim/faults", json={"mode": "http500"})
        assert answer.json()["mode"] == "http500"
        assert (await http.get("/metrics")).status_code == 500
        # The OpenAI API is unaffected.
        completion = await http.post("/v1/completions", json={"prompt": "hi", "max_tokens": 1})
        assert completion.status_code == 200

        await http.post("/sim/faults", json={"mode": "garbage"})
        garbage = await http.get("/metrics")
        assert garbage.status_code == 200 and b"vllm:" not in garbage.content

        await http.post("/sim/faults", json={"mode": "slow", "delay_ms": 300})
        started = time.monotonic()
        assert (await http.get("/metrics")).status_code == 200
        assert time.monotonic() - started >= 0.29

        await http.post("/sim/faults", json={"mode": "truncated"})
        assert not (await http.get("/metrics")).content.endswith(b"\n")

        await http.post("/sim/faults", json={"mode": "nan"})
        assert 'model_name="sim-llama"} NaN' in (await http.get("/metrics")).text

        await http.post("/sim/faults", json={"mode": "oversized", "oversize_bytes": 100_000})
        assert len((await http.get("/metrics")).content) >= 100_000

        await http.post("/sim/faults", json={"mode": "none"})
        assert "vllm:num_requests_waiting" in (await http.get("/metrics")).text


async def test_bad_fault_requests_are_400(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as http:
        assert (await http.post("/sim/faults", json={"mode": "explode"})).status_code == 400
        assert (await http.post("/sim/faults", content=b"{")).status_code == 400
        assert (await http.post("/sim/overrides", json={"waiting": -1})).status_code == 400


async def test_overrides_change_what_the_page_reports(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.url, timeout=5) as http:
        await http.post(
            "/sim/overrides",
            json={"waiting": 7, "kv_cache_usage": 0.5, "lora_running": ["a"], "max_lora": 2},
        )
        await http.post("/sim/overrides", json={"waiting": 7, "lora_running": ["b"]})
        families = {
            f.name: f for f in text_string_to_metric_families((await http.get("/metrics")).text)
        }
        assert families["vllm:num_requests_waiting"].samples[0].value == 7
        lora = families["vllm:lora_requests_info"].samples
        newest = max(lora, key=lambda sample: sample.value)
        assert len(lora) == 2 and newest.labels["running_lora_adapters"] == "b"
        await http.post("/sim/overrides", json={})
        text = (await http.get("/metrics")).text
        assert 'vllm:num_requests_waiting{model_name="sim-llama"} 0.0' in text


def test_cli_sets_the_flavour_and_the_initial_fault() -> None:
    args = build_parser().parse_args(
        ["--flavour", "trtllm", "--fault", "slow", "--fault-delay-ms", "250"]
    )
    assert (args.flavour, args.fault, args.fault_delay_ms) == ("trtllm", "slow", 250.0)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--flavour", "tgi"])
