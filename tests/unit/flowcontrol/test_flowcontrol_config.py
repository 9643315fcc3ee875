"""The shared contract: FlowKey, the flowControl section, Admit messages and outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from gie.flowcontrol import (
    AdmitRequest,
    AdmitResult,
    FlowControlConfig,
    FlowKey,
    InvalidAdmitRequestError,
    Outcome,
)
from gie.flowcontrol.policy_parameters import VirtualTokenFairnessParameters
from gie.flowcontrol.quantity import parse_quantity
from gie.saturation import SaturationConfig
from gie_flow_controller.config_file import load_config_file, parse_sections
from gie_flow_controller.errors import ConfigFileError


def config(text: str) -> FlowControlConfig:
    return FlowControlConfig.model_validate(yaml.safe_load(text) or {})


def test_defaults_are_documented_values() -> None:
    defaults = FlowControlConfig()
    assert (defaults.shard_count, defaults.max_bytes, defaults.max_requests) == (4, 0, 0)
    assert (defaults.default_request_ttl_s, defaults.flow_idle_timeout_s) == (60.0, 300.0)
    band = defaults.band(0)
    assert (band.name, band.max_bytes, band.max_requests) == ("priority+0", 10**9, 5000)
    assert (band.fairness_policy, band.ordering_policy) == ("best-head", "fcfs")
    assert band.token_weights == VirtualTokenFairnessParameters()


def test_listed_bands_inherit_what_they_do_not_set() -> None:
    c = config(
        """
        maxBytes: 1Gi
        maxRequests: 10k
        defaultRequestTTL: 30s
        objectiveRequestTTLs: {batch: 10m}
        defaultPriorityBand:
          maxRequests: 100
          fairnessPolicy: virtual-token-fairness
          fairnessParameters: {outputTokenWeight: 3}
        priorityBands:
          - {priority: 10, name: critical, maxBytes: 5M}
          - {priority: -1, fairnessPolicy: round-robin}
        """
    )
    assert (c.max_bytes, c.max_requests) == (2**30, 10_000)
    critical = c.band(10)
    assert (critical.name, critical.max_bytes, critical.max_requests) == (
        "critical",
        5 * 10**6,
        100,
    )
    assert critical.token_weights.output_token_weight == 3.0
    sheddable = c.band(-1)
    assert (sheddable.name, sheddable.fairness_policy) == ("priority-1", "round-robin")
    assert sheddable.token_weights == VirtualTokenFairnessParameters()  # not VTC's params
    assert c.band(42).fairness_policy == "virtual-token-fairness"  # created on demand
    assert (c.request_ttl_s("batch"), c.request_ttl_s("chat"), c.request_ttl_s(None)) == (
        600.0,
        30.0,
        30.0,
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("shardCount: 0", "shardCount"),
        ('shardCount: "2"', "valid integer"),
        ("shardCount: 257", "shardCount"),
        ("maxBytes: 1Q", "quantity such as 1Gi"),
        ("maxRequests: -1", "must not be negative"),
        ("defaultRequestTTL: soon", "not a duration"),
        ("flowIdleTimeout: 0s", "greater than 0"),
        ("flowControll: {}", "Extra inputs"),
        ("priorityBands: [{priority: 1, fairnessPolicy: rr}]", "unknown fairness policy 'rr'"),
        ("priorityBands: [{priority: 1, orderingPolicy: lifo}]", "unknown ordering policy"),
        ("priorityBands: [{priority: 1}, {priority: 1}]", "priority 1 is listed twice"),
        ("priorityBands: [{priority: 1, name: x}, {priority: 2, name: x}]", "'x' is used twice"),
        ("priorityBands: [{name: x}]", "priority"),
        ("defaultPriorityBand: {fairnessParameters: {x: 1}}", "policy 'best-head'"),
        (
            "defaultPriorityBand: {fairnessPolicy: virtual-token-fairness, "
            "fairnessParameters: {outputTokenWeight: -1}}",
            "greater than or equal to 0",
        ),
        # A counter charge must stay finite: Redis refuses to add inf (or nan).
        (
            "defaultPriorityBand: {fairnessPolicy: virtual-token-fairness, "
            "fairnessParameters: {inputTokenWeight: .inf}}",
            "inputTokenWeight",
        ),
        (
            "defaultPriorityBand: {fairnessPolicy: virtual-token-fairness, "
            "fairnessParameters: {outputTokenWeight: 1.0e+308}}",
            "less than or equal to 1000000",
        ),
        ("objectiveRequestTTLs: [a]", "mapping of InferenceObjective"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_invalid_sections_are_refused_with_the_field_named(text: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        config(text)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (5000, 5000), ("5k", 5000), ("1Gi", 2**30), ("1.5M", 1_500_000), ("2Ki", 2048)],
)
def test_quantities(value: object, expected: int) -> None:
    assert parse_quantity(value) == expected


@pytest.mark.parametrize("value", [True, -1, "1 G", "G", 1.5, None])
def test_bad_quantities(value: object) -> None:
    with pytest.raises(ValueError, match=r"quantity|negative"):
        parse_quantity(value)


def test_flow_keys_are_immutable_and_default_like_upstream() -> None:
    key = FlowKey.of(None, None)
    assert key == FlowKey("default-flow", 0) and str(key) == "default-flow@0"
    with pytest.raises(AttributeError):
        key.priority = 3  # type: ignore[misc]
    assert {FlowKey("a", 1), FlowKey("a", 1)} == {FlowKey("a", 1)}
    for bad in [("", 0), ("a" * 257, 0), ("a\n", 0), ("a", 2**31)]:
        with pytest.raises(InvalidAdmitRequestError):
            FlowKey(*bad)


def test_admit_messages_round_trip_through_protobuf() -> None:
    deadline = datetime(2030, 1, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    request = AdmitRequest(
        "req-1",
        FlowKey("tenant", -2),
        byte_size=123,
        input_tokens=4,
        output_tokens=5,
        deadline=deadline,
        candidates=("10.0.0.1:8000", "[::1]:9000"),
        objective="batch",
        pool="ns/pool",
    )
    assert AdmitRequest.from_proto(request.to_proto()) == request
    for outcome in Outcome:
        result = AdmitResult(outcome, "why", 1.25, "fc-1")
        assert AdmitResult.from_proto(result.to_proto()) == result


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"request_id": ""}, "request id"),
        ({"byte_size": -1}, "byte_size"),
        ({"candidates": ("not-an-address",)}, "ip:port"),
        ({"deadline": datetime(2030, 1, 1)}, "timezone-aware"),
        # Each listed endpoint adds its room to the dispatch check: not twice.
        ({"candidates": ("10.0.0.1:8000", "10.0.0.1:8000")}, "listed twice: 10.0.0.1:8000"),
    ],
)
def test_malformed_admit_requests_are_refused(fields: dict[str, object], problem: str) -> None:
    values: dict[str, object] = {"request_id": "r", "flow": FlowKey("t", 0), **fields}
    with pytest.raises(InvalidAdmitRequestError, match=problem):
        AdmitRequest(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("deadline_ms", [-1, 10**15, 2**62])
def test_a_deadline_no_datetime_can_hold_is_refused_naming_it(deadline_ms: int) -> None:
    message = AdmitRequest("r", FlowKey("t", 0)).to_proto()
    message.deadline_unix_ms = deadline_ms
    with pytest.raises(InvalidAdmitRequestError, match=f"deadline_unix_ms {deadline_ms} "):
        AdmitRequest.from_proto(message)


def test_the_latest_deadline_a_client_can_give_reads_back() -> None:
    request = AdmitRequest("r", FlowKey("t", 0), deadline=datetime.max.replace(tzinfo=UTC))
    assert AdmitRequest.from_proto(request.to_proto()).deadline is not None


def test_outcomes_map_to_gateway_statuses() -> None:
    assert {o.name: o.http_status for o in Outcome} == {
        "DISPATCHED": 200,
        "REJECTED_CAPACITY": 429,
        "EVICTED_TTL": 503,
        "CANCELLED": 503,
    }


def test_the_flow_controller_reads_only_its_sections_of_the_picker_config(tmp_path: Path) -> None:
    path = tmp_path / "epp.yaml"
    path.write_text(
        """
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins: [{type: queue-scorer}]
saturationDetector: {queueDepthThreshold: 0, metricsStalenessThreshold: 1s}
flowControl: {shardCount: 8}
"""
    )
    loaded = load_config_file(path)
    assert loaded.flow_control.shard_count == 8
    assert loaded.saturation.queue_depth_threshold == 5  # zero means the default
    assert loaded.saturation.metrics_staleness_s == 1.0
    assert load_config_file(None).flow_control == FlowControlConfig()


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("[1, 2]", "is not a mapping"),
        ("flowControl: 3", "flowControl must be a mapping"),
        ("flowControl: {shardCount: 0}", "flowControl.shardCount"),
        ("saturationDetector: {queueDepth: 3}", "saturationDetector.queueDepth"),
    ],
)
def test_config_file_problems_name_file_and_field(document: str, problem: str) -> None:
    with pytest.raises(ConfigFileError, match=problem):
        parse_sections(yaml.safe_load(document), origin="GIE_CONFIG_FILE x.yaml")


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("{queueDepthThreshold: -1}", "queueDepthThreshold"),
        ("{kvCacheUtilThreshold: 1.5}", "kvCacheUtilThreshold"),
        ("{kvCacheUtilThreshold: .nan}", "kvCacheUtilThreshold"),
        ("{kvCacheUtilThreshold: .inf}", "kvCacheUtilThreshold"),
        ("{queueDepthThreshold: '5'}", "queueDepthThreshold"),
    ],
    ids=["negative-queue-depth", "kv-above-one", "kv-nan", "kv-inf", "queue-depth-as-text"],
)
def test_an_out_of_range_threshold_is_refused_as_the_picker_refuses_it(
    value: str, field: str
) -> None:
    with pytest.raises(ConfigFileError, match=f"x.yaml: saturationDetector.{field}: "):
        parse_sections(
            yaml.safe_load(f"saturationDetector: {value}"), origin="GIE_CONFIG_FILE x.yaml"
        )


def test_zero_and_null_thresholds_take_the_default() -> None:
    document = yaml.safe_load(
        "saturationDetector: {queueDepthThreshold: 0, kvCacheUtilThreshold: 0.0, "
        "metricsStalenessThreshold: null}"
    )
    assert parse_sections(document, origin="x").saturation == SaturationConfig()


def test_unreadable_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read"):
        load_config_file(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("flowControl: [")
    with pytest.raises(ConfigFileError, match="not valid YAML"):
        load_config_file(bad)
