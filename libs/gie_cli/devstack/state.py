"""The state dir: what a running local stack is made of, on disk.

``<state dir>/stack.json`` records every process the stack started (pid, argv, the
executable and the kernel start time that identify it, its log file) and every *part*
a user can reach (name, kind, addresses, health URL). Several parts may share one
process: every simulated model server is a part, all served by one ``gie_sim`` process.

The file is rewritten (atomically) after each process is spawned, so ``gie down`` can
clean up even after the starting command was killed. With Kubernetes discovery the
stack's kubeconfig is ``<state dir>/kubeconfig``, removed with the record. Logs live in
``<state dir>/logs`` and survive ``gie down``; runtime data (NATS store, Redis dir,
configs) lives in a temporary ``data-*`` directory inside the state dir that ``gie down``
removes.

The default state dir is ``.gie/stack`` under the current directory, overridden by the
``GIE_STATE_DIR`` environment variable or the ``--state-dir`` option.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gie_cli.devstack.errors import DevstackError, StackAlreadyRunningError

__all__ = [
    "STATE_FILE",
    "Discovery",
    "PartKind",
    "PartRecord",
    "ProcessRecord",
    "StackState",
    "StateStore",
    "default_state_dir",
]

STATE_FILE = "stack.json"
STATE_DIR_ENV = "GIE_STATE_DIR"

PartKind = Literal["nats", "redis", "sim", "service", "envoy", "kube-api"]
Discovery = Literal["file", "kubernetes"]


class ProcessRecord(BaseModel):
    """One OS process the stack started, with what identifies it beyond its pid."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    pid: int
    argv: list[str]
    start_ticks: int  # field 22 of /proc/<pid>/stat: start time in clock ticks since boot
    log: Path


class PartRecord(BaseModel):
    """One reachable part of the stack (a server, a service, one simulated endpoint)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: PartKind
    process: str  # name of the ProcessRecord that serves this part
    addresses: dict[str, str]
    # http(s)://... answered 200 when healthy, or redis://host:port (PING), or
    # rediss://host:port/?ca=<CA file> (PING over TLS)
    health_url: str


class StackState(BaseModel):
    """Everything ``stack.json`` holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    state_dir: Path
    data_dir: Path
    pool: str
    # How ingest finds the pool: the pool file, or the stack's Kubernetes API stand-in
    # (then ``kubeconfig`` is the kubeconfig the stack wrote for it).
    discovery: Discovery = "file"
    kubeconfig: Path | None = None
    gateway: str | None = None
    stopping: bool = False  # set by whoever begins stopping the stack
    processes: list[ProcessRecord] = Field(default_factory=list)
    parts: list[PartRecord] = Field(default_factory=list)

    def with_process(self, record: ProcessRecord) -> StackState:
        return self.model_copy(update={"processes": [*self.processes, record]})

    def with_parts(self, *parts: PartRecord) -> StackState:
        return self.model_copy(update={"parts": [*self.parts, *parts]})

    def process(self, name: str) -> ProcessRecord:
        for record in self.processes:
            if record.name == name:
                return record
        raise KeyError(name)


def default_state_dir() -> Path:
    """``$GIE_STATE_DIR`` if set, else ``.gie/stack`` under the current directory."""
    configured = os.environ.get(STATE_DIR_ENV)
    return Path(configured) if configured else Path.cwd() / ".gie" / "stack"


class StateStore:
    """Reads and writes ``stack.json`` in one state dir."""

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()
        self.file = self.root / STATE_FILE
        self.logs = self.root / "logs"

    def load(self) -> StackState | None:
        """The recorded stack, or None when there is none."""
        try:
            text = self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return StackState.model_validate_json(text)
        except ValidationError as exc:
            raise DevstackError(
                f"{self.file} is not a stack record this gie understands "
                f"(stop its processes by hand, then delete it): {exc}"
            ) from exc

    def save(self, state: StackState) -> None:
        """Write ``state`` atomically (readers never see a half-written file)."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        tmp.write_text(state.model_dump_json(indent=2), encoding="utf-8")
        os.replace(tmp, self.file)

    def remove(self) -> None:
        self.file.unlink(missing_ok=True)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the state dir's lock; raises if another command is starting a stack here."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w", encoding="utf-8") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StackAlreadyRunningError(
                    f"another gie command is starting a stack in {self.root}"
                ) from exc
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
