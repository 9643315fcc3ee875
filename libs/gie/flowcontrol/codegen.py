"""Regenerate (or check) the Python stubs of ``flow_control.proto``.

``python -m gie.flowcontrol.codegen`` writes, next to the ``.proto``:

* ``flow_control_pb2.py`` (protoc) and ``flow_control_pb2_grpc.py`` (grpc plugin),
* ``flow_control_pb2.pyi`` and ``flow_control_pb2_grpc.pyi`` (mypy-protobuf), typed for
  ``mypy --strict``.

Every file starts with a header that keeps ruff from reformatting or linting generated
code. ``--check`` writes nothing and exits 1 when a committed file declares something
other than what would be generated (:mod:`gie.flowcontrol.stub_essence`: descriptor,
RPC methods, typed names; the generators' own version stamps do not count). Needs the
dev tools ``grpcio-tools`` and ``mypy-protobuf``, pinned by the lock file.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from gie.flowcontrol.stub_essence import essence

PROTO_ROOT = Path(__file__).resolve().parents[2]  # libs/
PROTO = Path("gie/flowcontrol/v1/flow_control.proto")
HEADER = "# fmt: off\n# ruff: noqa\n"
# mypy-protobuf marks lines for flake8-pyi (Y0xx), codes ruff reports as unknown (RUF102).
_FLAKE8_PYI_NOQA = re.compile(r"  # noqa: Y\d+")
OUTPUTS = (
    "flow_control_pb2.py",
    "flow_control_pb2.pyi",
    "flow_control_pb2_grpc.py",
    "flow_control_pb2_grpc.pyi",
)


def _plugin(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: pip install mypy-protobuf")
    return found


def generate() -> dict[str, str]:
    """File name -> content of every generated stub, headers included."""
    with tempfile.TemporaryDirectory(prefix="gie-proto-") as out:
        command = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
            f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
            f"--mypy_out={out}",
            f"--mypy_grpc_out={out}",
            str(PROTO),
        ]
        done = subprocess.run(command, cwd=PROTO_ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"protoc failed:\n{done.stderr}")
        folder = Path(out) / PROTO.parent
        return {
            name: HEADER + _FLAKE8_PYI_NOQA.sub("", (folder / name).read_text(encoding="utf-8"))
            for name in OUTPUTS
        }


def stale_files(target: Path) -> list[str]:
    """Names of the committed stubs in ``target`` that declare other things than fresh
    ones (or are missing or unreadable)."""
    return [name for name, text in generate().items() if not _current(target / name, text)]


def _current(committed: Path, fresh: str) -> bool:
    if not committed.is_file():
        return False
    declared = essence(committed.name, committed.read_text(encoding="utf-8"))
    return declared is not None and declared == essence(committed.name, fresh)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the stubs are current")
    args = parser.parse_args(argv)
    target = PROTO_ROOT / PROTO.parent
    if args.check:
        stale = stale_files(target)
        for name in stale:
            print(f"stale: {target / name}", file=sys.stderr)
        return 1 if stale else 0
    for name, text in generate().items():
        (target / name).write_text(text, encoding="utf-8")
        print(f"wrote {target / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
