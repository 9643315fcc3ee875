"""Label and field selectors parsed as the API server parses them."""

from __future__ import annotations

import pytest

from gie_cli.kube.selectors import COMMON_FIELDS, POD_FIELDS, FieldSelector, LabelSelector
from gie_cli.kube.status import KubeError

_OBJ = {
    "metadata": {
        "name": "p",
        "namespace": "ns",
        "labels": {"app": "vllm", "gpus": "4", "x.io/tier": "a"},
    },
    "spec": {"nodeName": "n1", "hostNetwork": False},
    "status": {"phase": "Running"},
}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("gpus>2", True),
        ("gpus<4", False),
        ("missing>1", False),
        ("x.io/tier=a", True),
        ("x.io/tier notin (a, b)", False),
        ("app in (vllm),!missing", True),
        ("app!=vllm", False),
        ("other!=vllm", True),
    ],
)
def test_label_selectors(selector: str, matches: bool) -> None:
    assert LabelSelector.parse(selector).matches(_OBJ) is matches


@pytest.mark.parametrize(
    "selector",
    ["app in (a", "app=(x)", "gpus>x", "app=" + "v" * 64, "=x", "app in (a b)"],
    ids=[
        "unclosed-set",
        "bad-value",
        "non-integer-bound",
        "value-too-long",
        "no-key",
        "space-in-set",
    ],
)
def test_unparseable_label_selectors_are_400(selector: str) -> None:
    with pytest.raises(KubeError) as caught:
        LabelSelector.parse(selector)
    assert caught.value.code == 400


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("metadata.name=p", True),
        ("metadata.name==p,metadata.namespace=ns", True),
        ("spec.nodeName!=n1", False),
        ("status.phase=Running,spec.hostNetwork=false", True),
        ("spec.nodeName=", False),
    ],
)
def test_field_selectors(selector: str, matches: bool) -> None:
    assert FieldSelector.parse(selector, COMMON_FIELDS + POD_FIELDS).matches(_OBJ) is matches


def test_a_field_the_resource_does_not_support_is_400() -> None:
    with pytest.raises(KubeError) as caught:
        FieldSelector.parse("spec.nodeName=n1", COMMON_FIELDS)
    assert (caught.value.code, caught.value.status["message"]) == (
        400,
        "field label not supported: spec.nodeName",
    )
