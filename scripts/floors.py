"""Build a virtualenv with every dependency of gie at its floor, to test the floors.

``make floors`` runs this, then the test suite in that virtualenv. Every requirement
of ``pyproject.toml`` (the dependencies and every extra) that names a floor (``>=``)
is installed at exactly that version; the few without one (type stubs), and whatever
the requirements need in turn, as pip resolves them today, as they would be for a
user who installs gie into an environment of their own. A floor is honest when the
suite passes here: the code needs nothing newer.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def floor_constraints() -> list[str]:
    """``name==version`` for every requirement of the project that names a floor."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        listed.extend(extra)
    lines: set[str] = set()
    for requirement in map(Requirement, listed):
        name = canonicalize_name(requirement.name)
        floors = [s.version for s in requirement.specifier if s.operator == ">="]
        if name != canonicalize_name(project["name"]) and floors:
            lines.add(f"{name}=={floors[0]}")
    return sorted(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--venv", type=Path, required=True, help="virtualenv to (re)create")
    args = parser.parse_args(argv)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(args.venv)], check=True)
    constraints = args.venv / "floors.txt"
    constraints.write_text("\n".join(floor_constraints()) + "\n", encoding="utf-8")
    pip = [str(args.venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "--constraint", str(constraints), "-e", ".[dev]"], cwd=ROOT, check=True)
    print(f"installed at their floors in {args.venv}:")
    print(constraints.read_text(encoding="utf-8"), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
