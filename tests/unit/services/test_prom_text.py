from __future__ import annotations

import pytest

from gie_metrics_collector.prom_text import MetricsPageError, parse_samples
from gie_metrics_collector.vllm_signals import metrics_from_page

VLLM_PAGE = """\
# HELP vllm:num_requests_waiting Number of requests waiting.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="sim-llama"} 3.0
vllm:num_requests_running{model_name="sim-llama"} 5.0
vllm:kv_cache_usage_perc{model_name="sim-llama"} 0.42
vllm:cache_config_info{block_size="16",model_name="sim-llama",num_gpu_blocks="26000"} 1.0
vllm:prefix_cache_hits_total{model_name="sim-llama"} 120.0
vllm:prefix_cache_queries_total{model_name="sim-llama"} 400.0
vllm:unrelated_metric{label="with } brace and \\"quote\\""} 7
"""


def test_vllm_page_maps_to_endpoint_metrics() -> None:
    metrics = metrics_from_page(VLLM_PAGE)
    assert metrics.waiting_queue_size == 3
    assert metrics.running_requests == 5
    assert metrics.kv_cache_usage == pytest.approx(0.42)
    assert (metrics.kv_block_size, metrics.kv_num_blocks) == (16, 26000)
    assert (metrics.prefix_cache_hits, metrics.prefix_cache_queries) == (120.0, 400.0)


def test_old_kv_usage_name_is_accepted() -> None:
    page = VLLM_PAGE.replace("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")
    assert metrics_from_page(page).kv_cache_usage == pytest.approx(0.42)


def test_labels_with_escapes_parse() -> None:
    samples = parse_samples('m{a="x\\"y",b="z"} 1\n', frozenset({"m"}))
    assert samples[0].labels == {"a": 'x"y', "b": "z"}


@pytest.mark.parametrize(
    ("page", "problem"),
    [
        ("<html>oops</html>", "lacks"),
        ('vllm:num_requests_waiting{model_name="x" 3\n', "labels"),
        ("vllm:num_requests_waiting\n", "no value"),
        ("vllm:num_requests_waiting abc\n", "bad value"),
        ("vllm:num_requests_waiting NaN\n", "non-finite"),
        ("vllm:num_requests_waiting +Inf\n", "non-finite"),
        (
            VLLM_PAGE.split("vllm:num_requests_running", maxsplit=1)[0],
            "lacks vllm:num_requests_running",
        ),
    ],
    ids=["html", "unclosed-labels", "no-value", "bad-value", "nan", "inf", "truncated"],
)
def test_garbage_pages_raise_a_named_error(page: str, problem: str) -> None:
    with pytest.raises(MetricsPageError, match=problem):
        metrics_from_page(page)
