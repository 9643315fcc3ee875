"""The fast sample finder: what it reads, what it refuses, and that it agrees with
prometheus-client's parser on every series it reads."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from gie_metrics_collector.errors import PageError
from gie_metrics_collector.parsing import Sample, find_samples
from gie_sim.prom_format import Family, render_families

PAGE = """\
# HELP vllm:num_requests_waiting Number of requests waiting.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="m"} 3.0
vllm:num_requests_waiting_by_reason{reason="x"} 99
vllm:num_requests_running 5 1700000000000
weird{a="with } brace, comma",b="quote \\" and \\\\ and \\n"} 1e-3
vllm:unrelated{label="garbage is fine here"} not-a-number
"""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("vllm:num_requests_waiting", [Sample({"model_name": "m"}, 3.0)]),
        ("vllm:num_requests_running", [Sample({}, 5.0, 1700000000000)]),
        ("weird", [Sample({"a": "with } brace, comma", "b": 'quote " and \\ and \n'}, 0.001)]),
        ("vllm:num_requests", []),  # a prefix of other names is not a match
        ("absent", []),
    ],
    ids=["labels", "timestamp", "escapes-and-braces", "prefix-only", "absent"],
)
def test_reads_only_the_wanted_series(name: str, expected: list[Sample]) -> None:
    assert find_samples(PAGE, [name]).get(name, []) == expected


def test_first_line_of_the_page_is_found() -> None:
    assert find_samples("m 1\nm 2\n", ["m"]) == {"m": [Sample({}, 1.0), Sample({}, 2.0)]}


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        ("m 1", "truncated"),
        ("", "truncated"),
        ('m{a="x" 3\n', "garbage"),
        ("m{a=x} 3\n", "garbage"),
        ("m\n", "garbage"),
        ("m abc\n", "garbage"),
        ("m 1 2 3\n", "garbage"),
        ("m 1 soon\n", "garbage"),
        ("m NaN\n", "non_finite"),
        ("m +Inf\n", "non_finite"),
        ("m -Inf\n", "non_finite"),
    ],
    ids=[
        "no-final-newline",
        "empty",
        "unclosed-labels",
        "unquoted-label",
        "no-value",
        "bad-value",
        "extra-fields",
        "bad-timestamp",
        "nan",
        "inf",
        "minus-inf",
    ],
)
def test_malformed_wanted_lines_raise_a_reasoned_error(page: str, reason: str) -> None:
    with pytest.raises(PageError) as caught:
        find_samples(page, ["m"])
    assert caught.value.reason == reason


def test_the_line_cache_gives_the_same_samples_and_is_bounded() -> None:
    cache: dict[str, Sample] = {}
    first = find_samples(PAGE, ["vllm:num_requests_waiting", "weird"], cache)
    again = find_samples(PAGE, ["vllm:num_requests_waiting", "weird"], cache)
    assert first == again == find_samples(PAGE, ["vllm:num_requests_waiting", "weird"])
    for i in range(400):
        find_samples(f"m {i}\n", ["m"], cache)
    assert len(cache) <= 257


_label_values = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
_labels = st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), _label_values)
_values = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=150, deadline=None)
@given(series=st.lists(st.tuples(_labels, _values), min_size=1, max_size=5))
def test_agrees_with_prometheus_client_on_any_valid_page(
    series: list[tuple[dict[str, str], float]],
) -> None:
    page = render_families(
        [
            Family("other_metric", "gauge", "noise", (({"x": "}{,="}, 1.0),)),
            Family("wanted:metric", "gauge", "the one we read", tuple(series)),
        ]
    )
    ours = find_samples(page, ["wanted:metric"])["wanted:metric"]
    families = {f.name: f for f in text_string_to_metric_families(page)}
    theirs = families["wanted:metric"].samples
    assert [(dict(s.labels), s.value) for s in ours] == [(s.labels, s.value) for s in theirs]
    assert all(math.isfinite(s.value) for s in ours)
