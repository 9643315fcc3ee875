"""Processes started from rendered manifests, as a cluster would start the containers.

A container's command, arguments and environment are taken as rendered; what a cluster
provides instead is supplied here: ConfigMap and Secret mounts become folders of files, the
downward API's pod name is made up, ``$(VAR)`` references are expanded from the
container's environment (as the kubelet does), and ``localise`` turns cluster addresses
into loopback ones.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from tests.support.chart import Obj, of_kind

_REFERENCE = re.compile(r"\$\((\w+)\)")


def config_maps(rendered: tuple[Obj, ...]) -> dict[str, dict[str, str]]:
    return {cm["metadata"]["name"]: cm["data"] for cm in of_kind(rendered, "ConfigMap")}


def secrets(rendered: tuple[Obj, ...]) -> dict[str, dict[str, bytes]]:
    """The rendered Secrets' data, decoded (name -> key -> bytes)."""
    return {
        secret["metadata"]["name"]: {
            key: base64.b64decode(value) for key, value in secret.get("data", {}).items()
        }
        for secret in of_kind(rendered, "Secret")
    }


def expand(text: str, env: dict[str, str]) -> str:
    """``$(NAME)`` replaced by the variable's value, as the kubelet does in env and args."""
    return _REFERENCE.sub(lambda m: env.get(m.group(1), m.group(0)), text)


def mounted_folders(
    pod: Obj,
    container: Obj,
    files: Path,
    maps: dict[str, dict[str, str]],
    rewrite: Callable[[str], str] = str,
    *,
    secret_data: dict[str, dict[str, bytes]] | None = None,
) -> dict[str, str]:
    """Mount path -> local folder ``files/<volume>``: each ConfigMap volume written there
    (mount paths in the files relocated, then ``rewrite`` applied), each Secret volume of
    ``secret_data`` written as the kubelet does (its ``items``, else every key), each other
    volume an empty folder. Containers of one pod given the same ``files`` share their
    volumes."""
    mounts = {}
    for mount in container.get("volumeMounts", []):
        folder = files / mount["name"]
        folder.mkdir(parents=True, exist_ok=True)
        mounts[mount["mountPath"]] = str(folder)
    for mount in container.get("volumeMounts", []):
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        if "configMap" in volume:
            for key, text in maps[volume["configMap"]["name"]].items():
                _publish(files / mount["name"] / key, rewrite(relocate(text, mounts)).encode())
        elif "secret" in volume and volume["secret"]["secretName"] in (secret_data or {}):
            data = (secret_data or {})[volume["secret"]["secretName"]]
            items = volume["secret"].get("items") or [{"key": k, "path": k} for k in data]
            for item in items:
                _publish(files / mount["name"] / item["path"], data[item["key"]])
    return mounts


def _publish(path: Path, content: bytes) -> None:
    """Write a mounted file as the kubelet updates a volume: atomically (never a
    truncated file for a reader), and not at all when it already holds ``content``.

    Containers of one pod share their volume folders, so a later container's mounts
    write the files an earlier, already started container may be reading (a start
    script that read a truncated copy ran as an empty script and exited 0)."""
    if path.exists() and path.read_bytes() == content:
        return
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def relocate(text: str, mounts: dict[str, str]) -> str:
    """Mount paths in ``text`` replaced by their local folders, in one pass (a local
    folder may itself start with a mount path, such as /tmp)."""
    if not mounts:
        return text
    paths = "|".join(re.escape(path) for path in sorted(mounts, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w./-])({paths})(?![\w.-])")
    return pattern.sub(lambda m: mounts[m.group(1)], text)


def container_env(
    container: Obj,
    pod_name: str,
    mounts: dict[str, str],
    localise: Callable[[str], str],
    secrets: dict[str, str] | None = None,
) -> dict[str, str]:
    """The container's environment: literal values and ``$(VAR)`` references expanded,
    the pod name for fieldRefs, ``secrets`` (by variable name) for secretKeyRefs."""
    env: dict[str, str] = {}
    for item in container.get("env", []):
        source = item.get("valueFrom", {})
        if "value" in item:
            value = expand(item["value"], env)
        elif "secretKeyRef" in source:
            value = (secrets or {})[item["name"]]
        else:
            value = pod_name
        env[item["name"]] = localise(relocate(value, mounts))
    return env


@contextlib.contextmanager
def started(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def wait_for(url: str, procs: dict[str, subprocess.Popen[bytes]], logs: Path) -> None:
    """Until ``url`` answers 200; fails with the log of a process that exited first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                tail = (logs / f"{name}.log").read_text()[-3000:]
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered 200")
