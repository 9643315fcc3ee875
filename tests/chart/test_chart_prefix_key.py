"""The pool's prefix-hash secret: one Secret, mounted by every picker and collector.

Pickers and metrics-collectors must key block hashes with the same secret, or their
hashes never match. The chart makes the Secret (a random key; an upgrade finds it with
``lookup`` and keeps its key, which ``helm template`` cannot show: it has no cluster), or
mounts the operator's own.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from gie.prefix.keying import MIN_SECRET_BYTES
from tests.support.chart import CHART, Obj, env_of, named, of_kind, render

DEFAULT = CHART / "ci" / "default.yaml"
USERS = {"gie-picker", "gie-metrics-collector"}


def key_mounts(rendered: tuple[Obj, ...]) -> dict[str, tuple[str, str, str]]:
    """command -> (GIE_PREFIX_KEY_FILE, Secret name, key in it) for every gie container."""
    found = {}
    for deployment in of_kind(rendered, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            path = env_of(container).get("GIE_PREFIX_KEY_FILE")
            if path is None:
                continue
            mount = next(m for m in container["volumeMounts"] if path.startswith(m["mountPath"]))
            secret = volumes[mount["name"]]["secret"]
            (item,) = secret["items"]
            assert Path(mount["mountPath"]) / item["path"] == Path(path)
            found[container["command"][0]] = (path, secret["secretName"], item["key"])
    return found


@pytest.fixture(scope="module")
def default_values() -> Path:
    if not DEFAULT.exists():
        pytest.skip("no default CI values file")
    return DEFAULT


def test_pickers_and_collectors_mount_the_charts_secret(default_values: Path) -> None:
    rendered = render(default_values)
    mounts = key_mounts(rendered)
    assert set(mounts) == USERS
    assert len(set(mounts.values())) == 1  # the same file of the same Secret
    (_, name, key) = next(iter(mounts.values()))
    secret = named(rendered, "Secret", name)
    assert len(base64.b64decode(secret["data"][key])) >= MIN_SECRET_BYTES


def test_an_existing_secret_replaces_the_charts(default_values: Path) -> None:
    rendered = render(
        default_values,
        "global.prefixKey.existingSecret.name=pool-hashing",
        "global.prefixKey.existingSecret.key=secret",
    )
    mounts = key_mounts(rendered)
    assert {(name, key) for _, name, key in mounts.values()} == {("pool-hashing", "secret")}
    assert not [s for s in of_kind(rendered, "Secret") if "prefix-key" in s["metadata"]["name"]]
