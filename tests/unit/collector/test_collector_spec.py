"""Metric specs in upstream's ``name{label=value}`` syntax."""

from __future__ import annotations

import pytest

from gie_metrics_collector.parsing import MetricSpec, parse_spec


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vllm:num_requests_waiting", MetricSpec("vllm:num_requests_waiting")),
        (" padded ", MetricSpec("padded")),
        ("m{request_type=waiting}", MetricSpec("m", (("request_type", "waiting"),))),
        ('m{a="x", b = y}', MetricSpec("m", (("a", "x"), ("b", "y")))),
    ],
    ids=["name", "whitespace", "one-label", "quoted-and-spaced"],
)
def test_valid_specs(text: str, expected: MetricSpec) -> None:
    assert parse_spec(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "m{}", "m{a}", "m{a=}", "m{=b}", "m{a=b", "ma=b}", "m{a=b}x", "9bad", "m{a=b=c}"],
)
def test_invalid_specs_name_the_spec(text: str) -> None:
    with pytest.raises(ValueError, match="invalid metric spec"):
        parse_spec(text)


def test_a_spec_matches_series_that_carry_all_its_labels() -> None:
    spec = parse_spec("nv_trt_llm_request_metrics{request_type=waiting}")
    assert spec.matches({"request_type": "waiting", "model": "x"})
    assert not spec.matches({"request_type": "scheduled"})
    assert not spec.matches({})
    assert str(spec) == "nv_trt_llm_request_metrics{request_type=waiting}"
