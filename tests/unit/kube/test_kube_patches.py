"""Patches as the API server applies them: JSON merge, JSON patch, strategic merge."""

from __future__ import annotations

from typing import Any

import pytest

from gie_cli.kube.json_patches import apply_json_patch, apply_merge_patch
from gie_cli.kube.patch_meta import BUILTIN_PATCH_META
from gie_cli.kube.status import KubeError
from gie_cli.kube.strategic_merge import apply_strategic_merge_patch

POD_META = BUILTIN_PATCH_META[("", "pods")]


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
    ids=["replace", "add", "remove", "lists-replaced", "nested", "nulls-in-new-maps"],
)
def test_merge_patch_follows_rfc_7386(target: Any, patch: Any, result: Any) -> None:
    assert apply_merge_patch(target, patch) == result


def test_json_patch_applies_every_operation_in_order() -> None:
    doc = {"spec": {"ports": [{"n": 1}], "name": "a"}, "drop": True}
    patch = [
        {"op": "add", "path": "/spec/ports/-", "value": {"n": 2}},
        {"op": "replace", "path": "/spec/name", "value": "b"},
        {"op": "remove", "path": "/drop"},
        {"op": "copy", "from": "/spec/name", "path": "/copied"},
        {"op": "move", "from": "/copied", "path": "/moved"},
        {"op": "test", "path": "/spec/ports/1/n", "value": 2},
        {"op": "add", "path": "/spec/a~1b", "value": 1},
    ]
    assert apply_json_patch(doc, patch) == {
        "spec": {"ports": [{"n": 1}, {"n": 2}], "name": "b", "a/b": 1},
        "moved": "b",
    }
    assert "drop" in doc  # the original is untouched


@pytest.mark.parametrize(
    ("patch", "code"),
    [
        ([{"op": "test", "path": "/a", "value": 2}], 422),
        ([{"op": "replace", "path": "/missing", "value": 1}], 422),
        ([{"op": "remove", "path": "/list/5"}], 422),
        ([{"op": "frobnicate", "path": "/a"}], 400),
        ({"op": "add"}, 400),
        ([{"op": "remove", "path": "/list/\u00b2"}], 422),
    ],
    ids=[
        "failed-test",
        "replace-missing",
        "index-out-of-range",
        "unknown-op",
        "not-a-list",
        "superscript-index",
    ],
)
def test_json_patch_failures_are_the_servers_errors(patch: Any, code: int) -> None:
    with pytest.raises(KubeError) as caught:
        apply_json_patch({"a": 1, "list": []}, patch)
    assert caught.value.code == code


def _pod(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "p"}, "spec": {"containers": list(containers)}}


def test_strategic_merge_merges_containers_by_name_and_ports_by_number() -> None:
    original = _pod(
        {"name": "a", "image": "a:1", "ports": [{"containerPort": 80, "name": "http"}]},
        {"name": "b", "image": "b:1"},
    )
    patch = {
        "spec": {
            "containers": [
                {"name": "b", "image": "b:2"},
                {
                    "name": "a",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 81}],
                },
                {"name": "c", "image": "c:1"},
            ]
        }
    }
    merged = apply_strategic_merge_patch(original, patch, POD_META)
    assert merged["spec"]["containers"] == [
        {
            "name": "a",
            "image": "a:1",
            "ports": [
                {"containerPort": 80, "name": "http", "protocol": "TCP"},
                {"containerPort": 81},
            ],
        },
        {"name": "b", "image": "b:2"},
        {"name": "c", "image": "c:1"},
    ]


@pytest.mark.parametrize(
    ("patch", "names"),
    [
        ({"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}, ["b"]),
        ({"spec": {"containers": [{"name": "z", "image": "z"}, {"$patch": "replace"}]}}, ["z"]),
        ({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}, ["b", "a"]),
        ({"spec": {"containers": None}}, None),
    ],
    ids=["delete-item", "replace-list", "set-element-order", "null-removes"],
)
def test_strategic_merge_directives(patch: dict[str, Any], names: list[str] | None) -> None:
    merged = apply_strategic_merge_patch(_pod({"name": "a"}, {"name": "b"}), patch, POD_META)
    containers = merged["spec"].get("containers")
    assert (None if containers is None else [c["name"] for c in containers]) == names


def test_strategic_merge_conditions_by_type_finalizers_as_a_set_and_retain_keys() -> None:
    original = {
        "metadata": {"finalizers": ["a"]},
        "spec": {"volumes": [{"name": "v", "emptyDir": {}}]},
        "status": {
            "conditions": [
                {"type": "Ready", "status": "False"},
                {"type": "Initialized", "status": "True"},
            ]
        },
    }
    patch = {
        "metadata": {"finalizers": ["b", "a"], "$deleteFromPrimitiveList/finalizers": ["a"]},
        "spec": {
            "volumes": [
                {"name": "v", "configMap": {"name": "c"}, "$retainKeys": ["name", "configMap"]}
            ]
        },
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    merged = apply_strategic_merge_patch(original, patch, POD_META)
    assert merged["metadata"]["finalizers"] == ["b"]
    assert merged["spec"]["volumes"] == [{"name": "v", "configMap": {"name": "c"}}]
    assert merged["status"]["conditions"] == [
        {"type": "Ready", "status": "True"},
        {"type": "Initialized", "status": "True"},
    ]


def test_strategic_merge_replaces_lists_without_a_merge_key() -> None:
    original = {"spec": {"tolerations": [{"key": "a"}], "containers": []}}
    merged = apply_strategic_merge_patch(
        original, {"spec": {"tolerations": [{"key": "b"}]}}, POD_META
    )
    assert merged["spec"]["tolerations"] == [{"key": "b"}]
