"""Every rendered object is one the API server accepts.

Core kinds go through kubernetes-validate in strict mode against Kubernetes 1.34 (an
unknown field is an error); the Inference Extension's resources against the schemas of
the chart's own CRDs. An object of any other kind fails: nothing may go unchecked.
"""

from __future__ import annotations

import kubernetes_validate

from tests.support.chart import Obj
from tests.support.crds import load_crds, validate_object

KUBERNETES_VERSION = "1.34"


def custom_kinds() -> set[tuple[str, str]]:
    kinds = set()
    for crd in load_crds().values():
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        kinds |= {(f"{group}/{v['name']}", kind) for v in crd["spec"]["versions"]}
    return kinds


def test_core_objects_pass_strict_validation(rendered: tuple[Obj, ...]) -> None:
    custom = custom_kinds()
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
