"""A peer router's wheel, installed on first use into a virtualenv of its own.

``<root>/<distribution>-<version>/`` (default root ``~/.cache/gie-bench/venvs``) is made
with ``python -m venv`` and filled by that venv's own pip from the package registry. A
marker file written last says the install completed; a directory without it (an
interrupted install) is wiped and installed again. A lock file serialises benchmarks
installing at once; arms sharing a package share one :class:`PeerVenv`, whose asyncio
lock makes them install once per benchmark.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.errors import PeerInstallError

__all__ = ["DEFAULT_VENV_ROOT", "PeerPackage", "PeerVenv"]

DEFAULT_VENV_ROOT = Path.home() / ".cache" / "gie-bench" / "venvs"
_MARKER = ".gie-bench-installed"


@dataclass(frozen=True, kw_only=True)
class PeerPackage:
    distribution: str  # on the package registry, e.g. "sglang-router"
    version: str  # pinned, so results are reproducible
    executable: str  # console script the wheel installs

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


async def _run(argv: list[str], *, timeout_s: float) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(timeout_s):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        return -1, f"timed out after {timeout_s:g}s"
    return process.returncode or 0, output.decode(errors="replace")


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.splitlines() if not line.startswith("WARNING: Location")]
    return "\n".join(kept[-lines:])


class PeerVenv:
    """One package's virtualenv; :meth:`ensure` installs it once and remembers failure."""

    def __init__(self, root: Path, package: PeerPackage) -> None:
        self.package = package
        self.path = root / f"{package.distribution}-{package.version}"
        self._lock = asyncio.Lock()
        self._failure: str | None = None

    @property
    def executable(self) -> Path:
        return self.path / "bin" / self.package.executable

    def installed(self) -> bool:
        marker = self.path / _MARKER
        return marker.is_file() and marker.read_text(encoding="utf-8") == self.package.requirement

    async def ensure(self, *, timeout_s: float = 600.0) -> Path:
        """Install if needed; the executable's path. Raises :class:`PeerInstallError`."""
        async with self._lock:
            if self._failure is not None:
                raise PeerInstallError(self._failure)
            if not self.installed():
                try:
                    await self._install(timeout_s)
                except OSError as exc:
                    self._failure = f"cannot create {self.path}: {exc}"
                    raise PeerInstallError(self._failure) from exc
                except PeerInstallError as exc:
                    self._failure = str(exc)
                    raise
            return self.executable

    async def _install(self, timeout_s: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        async with _file_lock(self.path.with_name(self.path.name + ".lock")):
            if self.installed():  # another benchmark finished it meanwhile
                return
            shutil.rmtree(self.path, ignore_errors=True)
            code, output = await _run([sys.executable, "-m", "venv", str(self.path)], timeout_s=120)
            if code != 0:
                raise PeerInstallError(f"python -m venv failed: {_tail(output)}")
            pip = [str(self.path / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            pip += ["--disable-pip-version-check", self.package.requirement]
            code, output = await _run(pip, timeout_s=timeout_s)
            if code != 0:
                raise PeerInstallError(
                    f"pip install {self.package.requirement} failed: {_tail(output)}"
                )
            if not self.executable.is_file():
                raise PeerInstallError(
                    f"{self.package.requirement} installed no {self.package.executable} script"
                )
            (self.path / _MARKER).write_text(self.package.requirement, encoding="utf-8")


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[None]:
    """An exclusive ``flock`` on ``path``, waited for without blocking the loop."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            if _try_lock(fd):
                break
            await asyncio.sleep(0.5)
        yield
    finally:
        os.close(fd)  # releases the lock
