"""The picker's extra volumes: files the operator mounts into the picker container,
such as the model servers' tokenizer for ``precise-prefix-cache-scorer``.

Mounted read-only into the picker alone; a mount that names no extra volume, or an
extra volume named like one of the chart's own, is refused when rendering with a
message naming the value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.chart import CHART, Obj, named, of_kind, render, run_helm

DEFAULT = CHART / "ci" / "default.yaml"
TOKENIZER = [
    "picker.extraVolumes[0].name=tokenizer",
    "picker.extraVolumes[0].persistentVolumeClaim.claimName=mistral-small-tokenizer",
    "picker.extraVolumes[0].persistentVolumeClaim.readOnly=true",
    "picker.extraVolumeMounts[0].name=tokenizer",
    "picker.extraVolumeMounts[0].mountPath=/models/mistral-small",
]


def pod_of(rendered: tuple[Obj, ...], name: str) -> Obj:
    spec: Obj = named(rendered, "Deployment", name)["spec"]["template"]["spec"]
    return spec


def test_the_tokenizer_claim_is_mounted_read_only_into_the_picker_only() -> None:
    rendered = render(DEFAULT, *TOKENIZER)
    pod = pod_of(rendered, "gie-picker")
    (volume,) = [v for v in pod["volumes"] if v["name"] == "tokenizer"]
    assert volume["persistentVolumeClaim"] == {
        "claimName": "mistral-small-tokenizer",
        "readOnly": True,
    }
    (container,) = pod["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "tokenizer"]
    assert mount == {"name": "tokenizer", "mountPath": "/models/mistral-small", "readOnly": True}
    assert {"tmp", "epp-config"} <= {m["name"] for m in container["volumeMounts"]}
    others = [d for d in of_kind(rendered, "Deployment") if d["metadata"]["name"] != "gie-picker"]
    assert others
    for deployment in others:
        volumes = deployment["spec"]["template"]["spec"].get("volumes", [])
        assert "tokenizer" not in {v["name"] for v in volumes}, deployment["metadata"]["name"]


def test_a_sub_path_is_kept() -> None:
    rendered = render(DEFAULT, *TOKENIZER, "picker.extraVolumeMounts[0].subPath=v3")
    (container,) = pod_of(rendered, "gie-picker")["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "tokenizer"]
    assert mount["subPath"] == "v3"


def test_without_extra_volumes_the_picker_pod_is_unchanged() -> None:
    plain = pod_of(render(DEFAULT), "gie-picker")
    assert {v["name"] for v in plain["volumes"]} >= {"tmp", "epp-config"}
    assert "tokenizer" not in {v["name"] for v in plain["volumes"]}


def _refusal(*sets: str) -> str:
    args: list[str | Path] = ["template", "gie", CHART, "-f", DEFAULT]
    for pair in sets:
        args += ["--set", pair]
    result = run_helm(*args)
    assert result.returncode != 0, "rendered although refused"
    return result.stderr


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        pytest.param(
            ["picker.extraVolumeMounts[0].name=models", "picker.extraVolumeMounts[0].mountPath=/m"],
            'picker.extraVolumeMounts[0].name "models" names no volume of picker.extraVolumes',
            id="mount-without-volume",
        ),
        pytest.param(
            ["picker.extraVolumes[0].name=tmp", "picker.extraVolumes[0].emptyDir.medium=Memory"],
            """picker.extraVolumes[0].name "tmp" is the name of one of the chart's own volumes""",
            id="own-name",
        ),
        pytest.param(
            [*TOKENIZER, "picker.extraVolumes[1].name=tokenizer"],
            'picker.extraVolumes[1].name "tokenizer" is used twice',
            id="twice",
        ),
        pytest.param(
            [*TOKENIZER[:4], "picker.extraVolumeMounts[0].mountPath=models"],
            "extraVolumeMounts",
            id="relative-path",
        ),
    ],
)
def test_a_bad_extra_volume_is_refused_naming_the_value(sets: list[str], message: str) -> None:
    assert message in _refusal(*sets)
