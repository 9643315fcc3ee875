"""The lock (constraints.txt) pins the whole dependency set of pyproject.toml, and the
version floors cover what the committed code needs."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
STUBS = ROOT / "libs/gie/flowcontrol/v1"


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        listed.extend(extra)
    return [
        requirement
        for requirement in map(Requirement, listed)
        if canonicalize_name(requirement.name) != canonicalize_name(project["name"])
    ]


def _lock() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and re.fullmatch(r"[A-Za-z0-9._-]+", name), f"not a pin: {line!r}"
        assert canonicalize_name(name) not in pins, f"pinned twice: {name}"
        pins[canonicalize_name(name)] = Version(version)
    return pins


def _specifier(name: str) -> SpecifierSet:
    (requirement,) = [r for r in _requirements() if canonicalize_name(r.name) == name]
    return requirement.specifier


def _floor(name: str) -> Version:
    floors = [Version(s.version) for s in _specifier(name) if s.operator == ">="]
    assert floors, f"{name} has no floor in pyproject.toml"
    return max(floors)


@pytest.mark.parametrize("requirement", _requirements(), ids=str)
def test_every_dependency_is_pinned_within_its_range(requirement: Requirement) -> None:
    pins = _lock()
    name = canonicalize_name(requirement.name)
    assert name in pins, f"{requirement} is not in constraints.txt: run make lock"
    assert requirement.specifier.contains(pins[name], prereleases=True), (
        f"constraints.txt pins {name}=={pins[name]}, outside {requirement}: run make lock"
    )


def test_the_grpcio_floor_covers_the_version_the_stubs_check() -> None:
    source = (STUBS / "flow_control_pb2_grpc.py").read_text(encoding="utf-8")
    generated = re.search(r"GRPC_GENERATED_VERSION = '([^']+)'", source)
    assert generated is not None
    assert _floor("grpcio") >= Version(generated.group(1))


def test_the_protobuf_range_covers_the_gencode_the_stubs_validate() -> None:
    tree = ast.parse((STUBS / "flow_control_pb2.py").read_text(encoding="utf-8"))
    (call,) = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "ValidateProtobufRuntimeVersion"
    ]
    major, minor, patch = (ast.literal_eval(arg) for arg in call.args[1:4])
    assert all(isinstance(number, int) for number in (major, minor, patch))
    gencode = Version(f"{major}.{minor}.{patch}")
    assert _floor("protobuf") >= gencode
    assert not _specifier("protobuf").contains(Version(f"{int(major) + 1}.0.0"))
