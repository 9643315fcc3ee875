"""Write the lock: every package of the project's whole dependency set, pinned.

``make lock`` runs this with the virtualenv's pip. pip resolves the project with
every extra (``.[dev]`` pulls in ``local`` and ``bench``) afresh, ignoring what is
installed and any earlier lock, and reports what it would install; nothing is
installed. The lock is a pip constraints file: ``make venv`` and CI install with
``-c constraints.txt``, so a fresh virtualenv gets exactly these versions. pip
itself is pinned too (to the version that resolved the lock).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "gie"
HEADER = """\
# The lock of gie's whole dependency set (every extra), a pip constraints file.
# Written by `make lock` (scripts/lock.py); do not edit by hand: change pyproject.toml,
# then run `make lock`. `make venv` and .ci/run install with `-c constraints.txt`.
"""


def resolve(extras: str) -> dict[str, str]:
    """Normalised name -> version of everything ``pip install .[extras]`` would install."""
    command = [
        sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
        "--quiet", "--report", "-", f".[{extras}]",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"pip could not resolve .[{extras}]:\n{done.stderr}")
    report = json.loads(done.stdout)
    pins = {
        _normalise(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }
    pins.pop(PROJECT, None)
    return pins


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _pip_version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version("pip")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "constraints.txt")
    parser.add_argument("--extras", default="dev", help="extras to resolve (default: dev)")
    args = parser.parse_args(argv)
    pins = resolve(args.extras)
    pins["pip"] = _pip_version()
    lines = [f"{name}=={pins[name]}" for name in sorted(pins)]
    args.out.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"locked {len(lines)} packages in {args.out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
