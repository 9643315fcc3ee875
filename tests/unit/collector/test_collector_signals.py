"""Reading each model server's page into EndpointMetrics."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gie.events import EndpointMetrics
from gie_metrics_collector.errors import PageError
from gie_metrics_collector.parsing import parse_spec
from gie_metrics_collector.signals import (
    BUILTIN_SPECS,
    Flavour,
    SignalReader,
    detect_flavour,
    flavour_from_labels,
)
from gie_sim import EngineSnapshot, EngineStats, SimConfig, render_metrics
from gie_sim.overrides import LoraInfo

SNAP = EngineSnapshot(
    num_running=4,
    num_waiting=7,
    kv_cache_usage=0.625,
    stats=EngineStats(prefix_cache_queries=400, prefix_cache_hits=120),
)


def page(flavour: str, snap: EngineSnapshot = SNAP, lora: tuple[LoraInfo, ...] = ()) -> bytes:
    config = SimConfig.model_validate(
        {"flavour": flavour, "block_size": 32, "num_gpu_blocks": 1000}
    )
    return render_metrics(config, snap, lora).encode()


def read(
    body: bytes, pinned: Flavour | None = None, previous: EndpointMetrics | None = None
) -> EndpointMetrics:
    return SignalReader(BUILTIN_SPECS, pinned=pinned).read(body, previous)


@pytest.mark.parametrize("flavour", ["vllm", "sglang", "trtllm"])
def test_every_flavour_yields_queue_running_and_kv_usage(flavour: str) -> None:
    metrics = read(page(flavour))
    assert (metrics.waiting_queue_size, metrics.running_requests) == (7, 4)
    assert metrics.kv_cache_usage == pytest.approx(0.625)
    assert (metrics.kv_block_size, metrics.kv_num_blocks) == (32, 1000)


def test_vllm_prefix_counters_are_read() -> None:
    metrics = read(page("vllm"))
    assert (metrics.prefix_cache_hits, metrics.prefix_cache_queries) == (120.0, 400.0)


def test_old_vllm_kv_usage_name_is_read_when_the_new_one_is_absent() -> None:
    body = page("vllm").replace(b"vllm:kv_cache_usage_perc", b"vllm:unrelated_gauge")
    assert read(body).kv_cache_usage == pytest.approx(0.625)


def test_newest_lora_series_wins_even_when_it_is_empty() -> None:
    busy = LoraInfo(running=("a", "b"), waiting=("c",), max_lora=4, timestamp=100.0)
    older = LoraInfo(running=("z",), waiting=(), max_lora=4, timestamp=50.0)
    metrics = read(page("vllm", lora=(busy, older)))
    assert (metrics.lora_running, metrics.lora_waiting, metrics.max_lora) == (
        ("a", "b"),
        ("c",),
        4,
    )
    drained = LoraInfo(running=(), waiting=(), max_lora=4, timestamp=200.0)
    assert read(page("vllm", lora=(busy, drained))).lora_running == ()


@pytest.mark.parametrize("max_lora", ["\u00b2", "9" * 5000, "-1", ""])
def test_an_unreadable_max_lora_is_left_out_not_a_failed_scrape(max_lora: str) -> None:
    body = (
        b"vllm:num_requests_waiting 1\nvllm:kv_cache_usage_perc 0.2\n"
        + f'vllm:lora_requests_info{{max_lora="{max_lora}",running_lora_adapters="a",'
        'waiting_lora_adapters=""} 100\n'.encode()
    )
    metrics = read(body, Flavour.VLLM)
    assert (metrics.lora_running, metrics.max_lora) == (("a",), None)


def test_data_parallel_engines_are_summed_and_averaged() -> None:
    body = (
        b'vllm:num_requests_waiting{engine="0"} 2\nvllm:num_requests_waiting{engine="1"} 3\n'
        b'vllm:kv_cache_usage_perc{engine="0"} 0.2\nvllm:kv_cache_usage_perc{engine="1"} 0.4\n'
    )
    metrics = read(body, Flavour.VLLM)
    assert metrics.waiting_queue_size == 5
    assert metrics.kv_cache_usage == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>\x00\xff</html>\n", "garbage"),
        (b"<html><body>Bad gateway</body></html>\n", "garbage"),
        (b"# TYPE other gauge\nother 1\n", "missing_signal"),
        (page("vllm").replace(b"vllm:num_requests_waiting", b"vllm:x"), "missing_signal"),
        (page("vllm")[: len(page("vllm")) // 2], "truncated"),
        (page("sglang").replace(b'"} 0.625', b'"} NaN'), "non_finite"),
        # Two engines' finite queues whose sum is inf.
        (
            b'vllm:num_requests_waiting{engine="0"} 1e308\n'
            b'vllm:num_requests_waiting{engine="1"} 1e308\n'
            b"vllm:kv_cache_usage_perc 0.2\n",
            "garbage",
        ),
    ],
    ids=["binary", "html", "other-exporter", "no-queue", "truncated", "nan", "sum-overflows"],
)
def test_unusable_pages_raise_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(PageError) as caught:
        read(body)
    assert caught.value.reason == reason


def test_optional_signals_missing_from_a_page_keep_their_previous_values() -> None:
    previous = read(page("vllm", lora=(LoraInfo(("a",), (), 2, 1.0),)))
    body = b"vllm:num_requests_waiting 1\nvllm:kv_cache_usage_perc 0.1\n"
    metrics = read(body, Flavour.VLLM, previous)
    assert metrics.waiting_queue_size == 1
    assert (metrics.running_requests, metrics.kv_block_size, metrics.lora_running) == (
        4,
        32,
        ("a",),
    )


def test_spec_overrides_replace_a_signal_and_can_switch_one_off() -> None:
    specs = {
        flavour: spec.with_overrides(
            {"queue": parse_spec("custom_queue{tier=gold}"), "running": None}
        )
        for flavour, spec in BUILTIN_SPECS.items()
    }
    body = page("vllm") + b'custom_queue{tier="gold"} 11\ncustom_queue{tier="free"} 50\n'
    metrics = SignalReader(specs, pinned=Flavour.VLLM).read(body, None)
    assert (metrics.waiting_queue_size, metrics.running_requests) == (11, 0)


def test_the_flavour_is_recognised_once_and_relearnt_after_a_failure() -> None:
    reader = SignalReader(BUILTIN_SPECS, pinned=None)
    assert reader.flavour is None
    reader.read(page("sglang"), None)
    assert reader.flavour is Flavour.SGLANG
    with pytest.raises(PageError):
        reader.read(page("trtllm"), None)  # read as SGLang: no sglang series
    assert reader.read(page("trtllm"), None).waiting_queue_size == 7
    assert reader.flavour is Flavour.TRTLLM


def test_an_unchanged_page_returns_the_same_values() -> None:
    reader = SignalReader(BUILTIN_SPECS, pinned=Flavour.VLLM)
    body = page("vllm")
    assert reader.read(body, None) is reader.read(body, None)
    other = page("vllm", replace(SNAP, num_waiting=1))
    assert reader.read(other, None).waiting_queue_size == 1


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({}, None),
        ({"llm-d.ai/engine-type": "sglang"}, Flavour.SGLANG),
        ({"inference.networking.k8s.io/engine-type": "triton-tensorrt-llm"}, Flavour.TRTLLM),
        ({"llm-d.ai/engine-type": "VLLM "}, Flavour.VLLM),
    ],
    ids=["none", "llm-d", "legacy-gaie", "case-and-space"],
)
def test_engine_type_labels_name_the_flavour(labels: dict[str, str], expected: Flavour) -> None:
    assert flavour_from_labels(labels) is expected


def test_unknown_engine_type_is_an_error() -> None:
    with pytest.raises(ValueError, match="unsupported engine type"):
        flavour_from_labels({"llm-d.ai/engine-type": "mystery"})


@pytest.mark.parametrize("flavour", ["vllm", "sglang", "trtllm"])
def test_pages_are_recognised(flavour: str) -> None:
    assert detect_flavour(page(flavour).decode()) == Flavour(flavour)
