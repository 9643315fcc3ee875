"""Spawning and stopping: a recorded pid is only signalled while it is still ours."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gie_cli.devstack import StopOutcome
from gie_cli.devstack.processes import cmdline_matches, is_ours, read_proc, spawn, stop_process
from gie_cli.devstack.state import ProcessRecord

SH = shutil.which("sh") or "/bin/sh"


@pytest.mark.parametrize(
    ("actual", "argv", "expected"),
    [
        (["/bin/sleep", "30"], ["/bin/sleep", "30"], True),
        (["/opt/valkey-server 127.0.0.1:6379"], ["/opt/valkey-server", "--port", "6379"], True),
        (["/opt/valkey-server 127.0.0.1:6379"], ["valkey-server"], True),
        (["/bin/sleep", "31"], ["/bin/sleep", "30"], False),
        (["/usr/bin/vim", "notes"], ["/bin/sleep", "30"], False),
        ([], ["/bin/sleep", "30"], False),
        (["/bin/sleep"], [], False),
    ],
    ids=["exact", "retitled", "retitled-base", "other-args", "other-program", "zombie", "no-argv"],
)
def test_cmdline_matches(actual: list[str], argv: list[str], expected: bool) -> None:
    assert cmdline_matches(actual, argv) is expected


def _group_members(pgid: int) -> list[int]:
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = read_proc(int(name))
            if info is not None and info.pgrp == pgid and not info.exited:
                members.append(info.pid)
    return members


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Children a test spawns; any still running at the end are killed (by their handle)."""
    children: list[subprocess.Popen[bytes]] = []
    yield children
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


async def _wait_for_exec(pid: int, argv: list[str]) -> None:
    """Until ``pid`` runs ``argv``: in the middle of exec its command line is still empty,
    and an empty command line is given the benefit of the doubt by ``is_ours``."""
    for _ in range(200):
        info = read_proc(pid)
        if info is not None and info.cmdline == argv:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"pid {pid} never ran {argv}")


def _spawn(
    started: list[subprocess.Popen[bytes]], tmp_path: Path, argv: list[str]
) -> tuple[subprocess.Popen[bytes], ProcessRecord]:
    child, record = spawn("test", argv, env=dict(os.environ), log_path=tmp_path / "test.log")
    started.append(child)
    return child, record


def test_spawned_process_leads_its_own_group_and_is_ours(
    started: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    child, record = _spawn(started, tmp_path, ["sleep", "30"])
    info = read_proc(child.pid)
    assert info is not None
    assert info.pgrp == child.pid
    assert record.start_ticks == info.start_ticks
    assert is_ours(record)


@pytest.mark.parametrize(
    "forged",
    [
        {"argv": ["sleep", "31"]},
        {"argv": ["/usr/bin/vim", "notes"]},
        {"start_ticks": 1},
    ],
    ids=["other-args", "other-program", "other-start-time"],
)
async def test_stop_refuses_a_pid_that_is_not_the_recorded_process(
    forged: dict[str, object], started: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    child, record = _spawn(started, tmp_path, ["sleep", "30"])
    await _wait_for_exec(child.pid, ["sleep", "30"])
    impostor = record.model_copy(update=forged)
    assert not is_ours(impostor)
    assert await stop_process(impostor, grace_s=0.5) is StopOutcome.NOT_RUNNING
    assert child.poll() is None, "a process we do not own was signalled"


async def test_stop_terminates_the_whole_group(
    started: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    child, record = _spawn(started, tmp_path, [SH, "-c", "sleep 60 & sleep 60 & wait"])
    for _ in range(100):  # until both sleeps run
        if len(_group_members(child.pid)) >= 3:
            break
        await asyncio.sleep(0.05)
    assert len(_group_members(child.pid)) >= 3
    assert await stop_process(record, grace_s=5.0, child=child) is StopOutcome.STOPPED
    assert child.poll() is not None
    assert _group_members(child.pid) == []
    assert not is_ours(record)


async def test_stop_kills_a_process_that_ignores_sigterm(
    started: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    child, record = _spawn(started, tmp_path, [SH, "-c", "trap '' TERM; echo trapped; sleep 60"])
    for _ in range(200):  # until the trap is set
        if b"trapped" in (tmp_path / "test.log").read_bytes():
            break
        await asyncio.sleep(0.01)
    assert await stop_process(record, grace_s=0.3, child=child) is StopOutcome.KILLED
    assert child.returncode == -signal.SIGKILL
    assert _group_members(child.pid) == []


async def test_stopping_an_exited_process_is_a_no_op(
    started: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    child, record = _spawn(started, tmp_path, ["true"])
    child.wait()
    assert await stop_process(record, child=child) is StopOutcome.NOT_RUNNING


async def test_stop_ends_what_an_exited_leader_left_running_in_its_group(
    started: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """A picker supervisor killed while its workers run on: stopping the stack must end
    the workers (they hold the ports) rather than report the leader gone and forget."""
    child, record = _spawn(started, tmp_path, [SH, "-c", "sleep 60 & echo started; exit 0"])
    child.wait()
    for _ in range(200):
        if _group_members(child.pid):
            break
        await asyncio.sleep(0.01)
    try:
        assert _group_members(child.pid), "the orphan did not start"
        assert await stop_process(record, grace_s=5.0, child=child) is StopOutcome.STOPPED
        assert _group_members(child.pid) == []
    finally:
        with contextlib.suppress(ProcessLookupError):  # what this test started, if left
            os.killpg(child.pid, signal.SIGKILL)
