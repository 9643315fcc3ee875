"""The container image's Dockerfile, checked without a container engine.

What a build would reject late (a COPY of a missing path), what would make the image
unsafe or unreproducible (root user, dependencies not from the lock) and what would
make a Deployment fail (a command the image does not have) is checked here.
"""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"
SERVICE_COMMANDS = ["gie-picker", "gie-flow-controller", "gie-metrics-collector", "gie-ingest"]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of every instruction, continuation lines joined."""
    joined = text.replace("\\\n", " ")
    result = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, arguments = stripped.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    return result


def console_scripts() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["scripts"])


@pytest.fixture(scope="module")
def steps() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def test_no_service_keeps_its_own_dockerfile() -> None:
    assert sorted(ROOT.glob("services/*/Dockerfile")) == []


def test_every_copy_source_exists(steps: list[tuple[str, str]]) -> None:
    copies = [shlex.split(args) for keyword, args in steps if keyword == "COPY"]
    local = [words for words in copies if not any(w.startswith("--from") for w in words)]
    assert local, "the image copies nothing from the repository"
    missing = [src for words in local for src in words[:-1] if not (ROOT / src).exists()]
    assert missing == []


def test_the_context_keeps_what_the_dockerfile_copies(steps: list[tuple[str, str]]) -> None:
    kept = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    copied = {
        src.rstrip("/").removeprefix("./")
        for keyword, args in steps
        if keyword == "COPY" and "--from" not in args
        for src in shlex.split(args)[:-1]
    }
    assert copied <= kept


def test_dependencies_are_installed_from_the_lock(steps: list[tuple[str, str]]) -> None:
    installs = [
        command
        for keyword, args in steps
        if keyword == "RUN"
        for command in args.split("&&")
        if " install " in command and "pip" in command
    ]
    assert installs, "no pip install in the Dockerfile"
    for command in installs:
        assert "--constraint constraints.txt" in command, command


def test_the_image_is_multi_stage_and_copies_only_the_venv(
    steps: list[tuple[str, str]],
) -> None:
    stages = [args for keyword, args in steps if keyword == "FROM"]
    assert len(stages) >= 2
    from_builder = [args for keyword, args in steps if keyword == "COPY" and "--from" in args]
    assert from_builder == ["--from=builder /opt/gie /opt/gie"]


def test_the_image_runs_as_a_numeric_non_root_user(steps: list[tuple[str, str]]) -> None:
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users, "no USER: the image would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0
    assert not gid or (gid.isdigit() and int(gid) != 0)


def test_a_read_only_root_needs_only_a_writable_tmp(steps: list[tuple[str, str]]) -> None:
    env = " ".join(args for keyword, args in steps if keyword == "ENV")
    for setting in ("HOME=/tmp", "TMPDIR=/tmp", "PYTHONDONTWRITEBYTECODE=1"):
        assert setting in env.split(), setting


def test_exposed_ports_are_numbers(steps: list[tuple[str, str]]) -> None:
    ports = [port for keyword, args in steps if keyword == "EXPOSE" for port in args.split()]
    assert ports
    assert all(port.isdigit() and 0 < int(port) < 65536 for port in ports), ports


def test_every_service_command_is_a_console_script() -> None:
    assert set(SERVICE_COMMANDS) | {"gie"} <= console_scripts()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("COPY a b\n", [("COPY", "a b")], id="one-line"),
        pytest.param("RUN a \\\n && b\n", [("RUN", "a   && b")], id="continued"),
        pytest.param("# c\n\nuser 1\n", [("USER", "1")], id="comment-and-case"),
    ],
)
def test_instructions_are_read_as_docker_reads_them(
    line: str, expected: list[tuple[str, str]]
) -> None:
    assert instructions(line) == expected
