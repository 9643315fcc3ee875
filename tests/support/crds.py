"""The project's CRDs (``helm/gie/crds/``) and fixture manifests, loaded for tests.

``CEL_RULES`` evaluates, in Python, every ``x-kubernetes-validations`` rule the CRDs
declare, keyed by the rule's exact text; a CRD that gains a rule without an entry here
makes the validating tests fail with a ``KeyError`` naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.support.schema_validator import CelRules, Schema, validate

ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = ROOT / "helm" / "gie" / "crds"
FIXTURES = ROOT / "tests" / "fixtures" / "kube"


def _ports_unique(ports: list[dict[str, Any]]) -> bool:
    numbers = [port.get("number") for port in ports]
    return len(numbers) == len(set(numbers))


def _service_has_port(ref: dict[str, Any]) -> bool:
    # Runs on the defaulted object: an unset kind is Service.
    return ref.get("kind", "Service") != "Service" or "port" in ref


CEL_RULES: CelRules = {
    "self.all(p1, self.exists_one(p2, p1.number==p2.number))": _ports_unique,
    "self.kind != 'Service' || has(self.port)": _service_has_port,
}


def crd_files() -> list[Path]:
    return sorted(CRD_DIR.glob("*.yaml"))


def load_crds() -> dict[str, dict[str, Any]]:
    """Every CRD by its ``metadata.name`` (one document per file)."""
    crds: dict[str, dict[str, Any]] = {}
    for path in crd_files():
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        crds[crd["metadata"]["name"]] = crd
    return crds


def crd_for(api_version: str, kind: str) -> tuple[dict[str, Any], Schema]:
    """The CRD serving ``kind`` at ``api_version`` (group/version), and that version's schema."""
    group, _, version = api_version.rpartition("/")
    for crd in load_crds().values():
        if crd["spec"]["group"] == group and crd["spec"]["names"]["kind"] == kind:
            for served in crd["spec"]["versions"]:
                if served["name"] == version:
                    return crd, served["schema"]["openAPIV3Schema"]
    raise LookupError(f"no CRD serves {kind} at {api_version}")


def validate_object(obj: dict[str, Any]) -> list[str]:
    """Problems of a custom object against the CRD of its apiVersion and kind."""
    _, schema = crd_for(obj["apiVersion"], obj["kind"])
    return validate(obj, schema, cel=CEL_RULES)


def load_fixture(name: str) -> list[dict[str, Any]]:
    """The documents of ``tests/fixtures/kube/<name>``."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]
