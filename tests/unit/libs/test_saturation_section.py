"""The one parser of ``saturationDetector``: absent, null or zero means upstream's
default; any other out-of-range value is an error naming the field."""

from __future__ import annotations

import math

import pytest

from gie.config import ConfigProblem, GieConfigError
from gie.saturation import SaturationConfig, parse_saturation_detector

DEFAULT = SaturationConfig()
UNKNOWN = "unknown field; expected one of: " + ", ".join(
    ["queueDepthThreshold", "kvCacheUtilThreshold", "metricsStalenessThreshold"]
)


def test_upstreams_defaults() -> None:
    assert (DEFAULT.queue_depth_threshold, DEFAULT.kv_cache_util_threshold) == (5, 0.8)
    assert DEFAULT.metrics_staleness_s == 0.2


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (None, DEFAULT),
        ({}, DEFAULT),
        ({"queueDepthThreshold": None, "kvCacheUtilThreshold": None}, DEFAULT),
        ({"queueDepthThreshold": 0}, DEFAULT),
        ({"kvCacheUtilThreshold": 0}, DEFAULT),
        ({"kvCacheUtilThreshold": 0.0}, DEFAULT),
        ({"metricsStalenessThreshold": "0s"}, DEFAULT),
        ({"metricsStalenessThreshold": "0ms"}, DEFAULT),
        ({"metricsStalenessThreshold": 0}, DEFAULT),
        (
            {"queueDepthThreshold": 8, "kvCacheUtilThreshold": 0.9},
            SaturationConfig(queue_depth_threshold=8, kv_cache_util_threshold=0.9),
        ),
        ({"kvCacheUtilThreshold": 1}, SaturationConfig(kv_cache_util_threshold=1.0)),
        ({"metricsStalenessThreshold": "1.5s"}, SaturationConfig(metrics_staleness_s=1.5)),
        (
            {"queueDepthThreshold": 0, "kvCacheUtilThreshold": 0.5},
            SaturationConfig(kv_cache_util_threshold=0.5),
        ),
    ],
    ids=[
        "no-section",
        "empty",
        "null",
        "zero-queue-depth",
        "zero-kv-int",
        "zero-kv-float",
        "zero-staleness",
        "zero-staleness-ms",
        "zero-staleness-bare",
        "valid",
        "kv-at-one",
        "valid-staleness",
        "zero-beside-valid",
    ],
)
def test_absent_null_and_zero_take_the_default(
    section: dict[str, object] | None, expected: SaturationConfig
) -> None:
    assert parse_saturation_detector(section) == expected


@pytest.mark.parametrize(
    ("section", "field", "message"),
    [
        ({"queueDepthThreshold": -1}, "queueDepthThreshold", "greater than or equal to 0"),
        ({"kvCacheUtilThreshold": -0.1}, "kvCacheUtilThreshold", "greater than or equal to 0"),
        ({"kvCacheUtilThreshold": 1.5}, "kvCacheUtilThreshold", "less than or equal to 1"),
        ({"kvCacheUtilThreshold": math.nan}, "kvCacheUtilThreshold", "finite"),
        ({"kvCacheUtilThreshold": math.inf}, "kvCacheUtilThreshold", "finite"),
        ({"kvCacheUtilThreshold": -math.inf}, "kvCacheUtilThreshold", "finite"),
        ({"queueDepthThreshold": math.nan}, "queueDepthThreshold", "valid integer"),
        ({"queueDepthThreshold": math.inf}, "queueDepthThreshold", "valid integer"),
        ({"metricsStalenessThreshold": math.nan}, "metricsStalenessThreshold", "finite"),
        ({"metricsStalenessThreshold": math.inf}, "metricsStalenessThreshold", "finite"),
        ({"metricsStalenessThreshold": "-1s"}, "metricsStalenessThreshold", "not a duration"),
        ({"metricsStalenessThreshold": 200}, "metricsStalenessThreshold", "needs a unit"),
        ({"queueDepthThreshold": "5"}, "queueDepthThreshold", "valid integer"),
        ({"queueDepthThreshold": "0"}, "queueDepthThreshold", "valid integer"),
        ({"queueDepthThreshold": False}, "queueDepthThreshold", "valid integer"),
        ({"queueDepth": 3}, "queueDepth", UNKNOWN),
    ],
    ids=[
        "negative-queue-depth",
        "negative-kv",
        "kv-above-one",
        "kv-nan",
        "kv-inf",
        "kv-minus-inf",
        "queue-depth-nan",
        "queue-depth-inf",
        "staleness-nan",
        "staleness-inf",
        "negative-staleness",
        "staleness-without-unit",
        "queue-depth-string",
        "queue-depth-string-zero",
        "queue-depth-bool",
        "unknown-field",
    ],
)
def test_any_other_bad_value_is_an_error_naming_the_field(
    section: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(GieConfigError) as caught:
        parse_saturation_detector(section)
    [found] = caught.value.problems
    assert found.path == ("saturationDetector", field)
    assert message in found.message
    assert str(caught.value).startswith(f"saturationDetector.{field}: ")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(GieConfigError) as caught:
        parse_saturation_detector(
            {"queueDepth": 3, "queueDepthThreshold": -2, "kvCacheUtilThreshold": 2}
        )
    assert [p.path[-1] for p in caught.value.problems] == [
        "queueDepth",
        "queueDepthThreshold",
        "kvCacheUtilThreshold",
    ]


def test_a_section_that_is_not_a_mapping_is_an_error() -> None:
    with pytest.raises(GieConfigError) as caught:
        parse_saturation_detector([1, 2])
    assert caught.value.problems == (ConfigProblem(("saturationDetector",), "must be a mapping"),)
    assert str(caught.value) == "saturationDetector: must be a mapping"


def test_the_kernels_config_error_is_a_value_error() -> None:
    assert issubclass(GieConfigError, ValueError)
