"""The kubeconfig that points kubectl and client libraries at the stand-in."""

from __future__ import annotations

from pathlib import Path

import yaml

__all__ = ["CONTEXT", "kubeconfig_text", "write_kubeconfig"]

CONTEXT = "gie"


def kubeconfig_text(server_url: str, *, namespace: str = "default") -> str:
    """A kubeconfig with one cluster, context and (credential-less) user, all named gie."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": server_url}}],
        "users": [{"name": CONTEXT, "user": {}}],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace},
            }
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write_kubeconfig(path: Path, server_url: str) -> Path:
    """Write the kubeconfig (readable by its owner only) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(kubeconfig_text(server_url), encoding="utf-8")
    path.chmod(0o600)
    return path
