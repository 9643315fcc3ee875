"""The Kubernetes objects of a stack with Kubernetes discovery, as plain dicts.

Pure functions: nothing here talks to a server. :mod:`gie_cli.devstack.kube_seed`
creates these objects in the stack's ``gie kube serve``; the stack writes the Pod of
each spare simulator as a manifest a user can ``kubectl apply``.

* one Pod per simulator, named after its part (``sim-0``, ``sim-1``, ...), labelled
  ``app: <model>`` and annotated ``gie.dev/simulator: HOST:PORT`` so the stand-in's
  kubelet runs it (``podIP`` = HOST, Ready following the simulator's ``/health``);
* one ``InferencePool`` (``inference.networking.k8s.io/v1``) named after the stack's
  pool, selecting ``app: <model>`` on the simulators' shared target port;
* one ``InferenceObjective`` (``llm-d.ai/v1alpha2``) per objective of the stack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gie_cli.kube.kubelet import SIMULATOR_ANNOTATION

__all__ = [
    "APP_LABEL",
    "POOL_GROUP",
    "POOL_VERSION",
    "TERMINATION_GRACE_S",
    "app_label_value",
    "crd_documents",
    "inference_objective",
    "inference_pool",
    "namespace_object",
    "sim_pod",
]

APP_LABEL = "app"
POOL_GROUP = "inference.networking.k8s.io"
POOL_VERSION = "v1"
OBJECTIVE_API = "llm-d.ai/v1alpha2"
# A short grace period: `kubectl delete pod` waits for it while the simulator still answers.
TERMINATION_GRACE_S = 5

_LABEL_INVALID = re.compile(r"[^A-Za-z0-9_.-]+")


def app_label_value(model: str) -> str:
    """The ``app`` label of the pool's Pods: the model name made a valid label value.

    ``sim-llama`` stays as is; ``meta-llama/Llama-3.1-8B`` becomes
    ``meta-llama-Llama-3.1-8B`` (at most 63 characters, alphanumeric at both ends).
    """
    value = _LABEL_INVALID.sub("-", model)[:63].strip("-_.")
    return value or "sim"


def namespace_object(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def sim_pod(*, name: str, namespace: str, app: str, endpoint: str) -> dict[str, Any]:
    """The Pod of one simulator at ``endpoint`` (``HOST:PORT``)."""
    port = int(endpoint.rpartition(":")[2])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {APP_LABEL: app},
            "annotations": {SIMULATOR_ANNOTATION: endpoint},
        },
        "spec": {
            "terminationGracePeriodSeconds": TERMINATION_GRACE_S,
            "containers": [
                {
                    "name": "sim",
                    "image": "gie-sim:local",
                    "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
                }
            ],
        },
    }


def inference_pool(*, name: str, namespace: str, app: str, port: int) -> dict[str, Any]:
    """The pool: Pods labelled ``app`` in ``namespace``, served on ``port``."""
    return {
        "apiVersion": f"{POOL_GROUP}/{POOL_VERSION}",
        "kind": "InferencePool",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"matchLabels": {APP_LABEL: app}}, "targetPorts": [{"number": port}]},
    }


def inference_objective(*, name: str, namespace: str, pool: str, priority: int) -> dict[str, Any]:
    return {
        "apiVersion": OBJECTIVE_API,
        "kind": "InferenceObjective",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "priority": priority,
            "poolRef": {"group": POOL_GROUP, "kind": "InferencePool", "name": pool},
        },
    }


def crd_documents(crds_dir: Path) -> list[dict[str, Any]]:
    """Every CustomResourceDefinition in the ``*.yaml`` files of ``crds_dir``, in name order."""
    documents: list[dict[str, Any]] = []
    for path in sorted(crds_dir.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(document, Mapping) and document.get("kind") == "CustomResourceDefinition":
                documents.append(dict(document))
    return documents
