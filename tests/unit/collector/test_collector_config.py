"""GIE_CONFIG_FILE's saturationDetector section and the collector's environment settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gie.saturation import SaturationConfig
from gie_metrics_collector.errors import ConfigFileError
from gie_metrics_collector.parsing import MetricSpec
from gie_metrics_collector.pool import load_saturation_config
from gie_metrics_collector.settings import CollectorSettings
from gie_metrics_collector.signals import Flavour

HEADER = "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("", SaturationConfig()),
        ("saturationDetector: {}\n", SaturationConfig()),
        (
            "saturationDetector:\n  queueDepthThreshold: 8\n  kvCacheUtilThreshold: 0.9\n"
            "  metricsStalenessThreshold: 1s\n",
            SaturationConfig(
                queue_depth_threshold=8, kv_cache_util_threshold=0.9, metrics_staleness_s=1.0
            ),
        ),
        (
            "saturationDetector:\n  queueDepthThreshold: 0\n  kvCacheUtilThreshold: 0.0\n"
            "  metricsStalenessThreshold: 0s\n",
            SaturationConfig(),
        ),
    ],
    ids=["no-section", "empty-section", "all-set", "zero-is-the-default"],
)
def test_thresholds_come_from_the_pickers_config(
    tmp_path: Path, section: str, expected: SaturationConfig
) -> None:
    path = tmp_path / "epp.yaml"
    path.write_text(HEADER + "plugins: [{type: queue-scorer}]\n" + section)
    assert load_saturation_config(path) == expected


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("{queueDepthThreshold: -1}", "queueDepthThreshold"),
        ("{kvCacheUtilThreshold: 1.5}", "kvCacheUtilThreshold"),
        ("{kvCacheUtilThreshold: -0.5}", "kvCacheUtilThreshold"),
        ("{kvCacheUtilThreshold: .nan}", "kvCacheUtilThreshold"),
        ("{kvCacheUtilThreshold: .inf}", "kvCacheUtilThreshold"),
        ("{metricsStalenessThreshold: .inf}", "metricsStalenessThreshold"),
    ],
    ids=["negative-queue-depth", "kv-above-one", "negative-kv", "kv-nan", "kv-inf", "stale-inf"],
)
def test_an_out_of_range_threshold_is_refused_as_the_picker_refuses_it(
    tmp_path: Path, value: str, field: str
) -> None:
    # The picker refuses these values; a collector that took the default instead would
    # judge saturation by other thresholds than the picker's.
    path = tmp_path / "epp.yaml"
    path.write_text(HEADER + f"saturationDetector: {value}\n")
    with pytest.raises(ConfigFileError, match=f"saturationDetector.{field}: ") as caught:
        load_saturation_config(path)
    assert str(path) in str(caught.value)


def test_no_file_means_upstream_defaults() -> None:
    assert load_saturation_config(None) == SaturationConfig()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("saturationDetector: [1, 2\n", "not valid YAML"),
        ("- a list\n", "not a mapping"),
        ("saturationDetector: 5\n", "must be a mapping"),
        ("saturationDetector:\n  queueDepthTreshold: 3\n", "invalid saturationDetector"),
        ("saturationDetector:\n  metricsStalenessThreshold: soon\n", "invalid saturationDetector"),
    ],
    ids=["missing", "not-yaml", "not-a-mapping", "section-not-a-mapping", "typo", "bad-duration"],
)
def test_a_broken_file_is_a_clear_start_up_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "epp.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigFileError, match=message) as caught:
        load_saturation_config(path)
    assert str(path) in str(caught.value)


def test_signal_overrides_come_from_upstream_named_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIE_TOTAL_QUEUED_REQUESTS_METRIC", "my_queue{tier=gold}")
    monkeypatch.setenv("GIE_LORA_INFO_METRIC", "")
    monkeypatch.setenv("GIE_METRICS_FLAVOUR", "sglang")
    settings = CollectorSettings()
    specs = settings.signal_specs()
    assert specs[Flavour.VLLM].queue == (MetricSpec("my_queue", (("tier", "gold"),)),)
    assert specs[Flavour.VLLM].lora == ()
    assert specs[Flavour.SGLANG].kv_usage == (MetricSpec("sglang:token_usage"),)
    assert settings.pinned_flavour is Flavour.SGLANG


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GIE_KV_CACHE_USAGE_PERCENTAGE_METRIC", "bad{spec"),
        ("GIE_TOTAL_QUEUED_REQUESTS_METRIC", ""),
        ("GIE_MEMBERSHIP_BUCKET", "no.dots"),
        ("GIE_METRICS_FLAVOUR", "tgi"),
    ],
    ids=["bad-spec", "required-switched-off", "bad-bucket", "unknown-flavour"],
)
def test_invalid_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        CollectorSettings()


def test_heartbeat_defaults_to_half_the_staleness_threshold() -> None:
    settings = CollectorSettings()
    assert settings.effective_heartbeat_s(SaturationConfig()) == pytest.approx(0.1)
    slow = SaturationConfig(metrics_staleness_s=2.0)
    assert settings.effective_heartbeat_s(slow) == pytest.approx(1.0)
    assert settings.effective_saturation_interval_s(SaturationConfig()) == pytest.approx(0.05)
