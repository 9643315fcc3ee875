"""Every rendered object is one the API server accepts.

Core kinds go through kubernetes-validate in strict mode against Kubernetes 1.34 (an
unknown field is an error); the Inference Extension's resources against the schemas of
the chart's own CRDs; HTTPRoute and ServiceMonitor against the schemas in
``tests/chart/schemas`` (the fields the chart sets, unknown ones refused). An object of
any other kind fails: nothing may go unchecked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.support.chart import CHART, SERVICE_MONITOR_API, Obj, of_kind, render
from tests.support.crds import load_crds, validate_object

SCHEMAS = Path(__file__).parent / "schemas"
OTHER_KINDS = {
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
}


def other_schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{kind}.json").read_text())
    return schema


KUBERNETES_VERSION = "1.34"


def custom_kinds() -> set[tuple[str, str]]:
    kinds = set()
    for crd in load_crds().values():
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        kinds |= {(f"{group}/{v['name']}", kind) for v in crd["spec"]["versions"]}
    return kinds


def test_core_objects_pass_strict_validation(rendered: tuple[Obj, ...]) -> None:
    custom = custom_kinds() | OTHER_KINDS
    core = [obj for obj in rendered if (obj["apiVersion"], obj["kind"]) not in custom]
    assert core
    for obj in core:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_custom_resources_match_the_chart_crds(rendered: tuple[Obj, ...]) -> None:
    custom = custom_kinds()
    resources = [obj for obj in rendered if (obj["apiVersion"], obj["kind"]) in custom]
    assert [obj["kind"] for obj in resources] == ["InferencePool"]
    for obj in resources:
        assert validate_object(obj) == [], obj["metadata"]["name"]


def test_strict_validation_rejects_an_unknown_field() -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "dat": {}}
    try:
        kubernetes_validate.validate(config_map, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        assert "dat" in error.message
    else:
        raise AssertionError("an unknown field passed strict validation")


def test_gateway_and_monitoring_objects_match_their_schemas(rendered: tuple[Obj, ...]) -> None:
    others = [obj for obj in rendered if (obj["apiVersion"], obj["kind"]) in OTHER_KINDS]
    assert "ServiceMonitor" in {obj["kind"] for obj in others}
    for obj in others:
        jsonschema.validate(obj, other_schema(obj["kind"]))


@pytest.mark.parametrize("kind", ["HTTPRoute", "ServiceMonitor"])
def test_the_held_schemas_refuse_an_unknown_field(kind: str) -> None:
    gateway = CHART / "ci" / "gateway.yaml"
    rendered = render(gateway, api_versions=(SERVICE_MONITOR_API,))
    obj = json.loads(json.dumps(of_kind(rendered, kind)[0]))
    obj["spec"]["unknownField"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(obj, other_schema(kind))


def test_no_service_monitor_without_the_operator_api() -> None:
    assert of_kind(render(CHART / "ci" / "default.yaml"), "ServiceMonitor") == []
