"""The pool of a stack with Kubernetes discovery: where its simulators listen, their Pods.

Pods of a pool have distinct IPs and share the pool's target port. :class:`KubePool`
gives simulator *i* the loopback address ``127.0.0.<i + 2>`` and one port free on all
of them. The first ``sims`` simulators get a Pod (named after their part, ``sim-<i>``);
the ``spares`` after them get none. The Pod manifest of every simulator is written to
``manifests_dir/sim-<i>.yaml``: ``kubectl apply -f`` adds a spare to the pool, or brings
back a Pod that was deleted.

:meth:`KubePool.create` applies the CRDs, creates the pool's namespace (unless
``default``), the InferencePool, one InferenceObjective per objective and the Pods, and
waits until the stand-in's kubelet reports every Pod Ready.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gie_cli.devstack.errors import KubeSeedError
from gie_cli.devstack.kube_objects import (
    app_label_value,
    crd_documents,
    inference_objective,
    inference_pool,
    namespace_object,
    sim_pod,
)
from gie_cli.devstack.kube_seed import apply_crds, create_objects, wait_pods_ready
from gie_cli.devstack.ports import free_port_on_hosts
from gie_cli.devstack.readiness import local_http_client

__all__ = ["MAX_SIMS", "KubePool", "default_crds_dir", "sim_host"]

MAX_SIMS = 250  # 127.0.0.2 .. 127.0.0.251


def sim_host(index: int) -> str:
    """The loopback address of simulator ``index``: 127.0.0.2, 127.0.0.3, ..."""
    if not 0 <= index < MAX_SIMS:
        raise ValueError(f"simulator index {index} outside 0..{MAX_SIMS - 1}")
    return f"127.0.0.{index + 2}"


def default_crds_dir() -> Path:
    """The chart's CRDs (``helm/gie/crds``) of the checkout gie runs from."""
    return Path(__file__).resolve().parents[3] / "helm" / "gie" / "crds"


class KubePool:
    """Addresses, Pods and manifests of one stack's pool; see the module docstring."""

    def __init__(
        self,
        *,
        pool: str,
        model: str,
        sims: int,
        spares: int,
        crds_dir: Path,
        manifests_dir: Path,
    ) -> None:
        namespace, _, name = pool.rpartition("/")
        self.namespace, self.name = namespace or "default", name
        self.app = app_label_value(model)
        self.sims = sims
        if not crds_dir.is_dir():
            raise KubeSeedError(
                f"no CRDs folder at {crds_dir}: give the folder of the Inference Extension's "
                "CRDs (the chart's helm/gie/crds) with --crds"
            )
        self.crds_dir = crds_dir
        if sims + spares > MAX_SIMS:
            raise KubeSeedError(f"at most {MAX_SIMS} simulators, got {sims} + {spares} spares")
        hosts = [sim_host(index) for index in range(sims + spares)]
        self.port = free_port_on_hosts(hosts)
        self.endpoints = [f"{host}:{self.port}" for host in hosts]
        self.manifests_dir = manifests_dir
        # Per simulator, its KV-event sockets as Pod annotations (precise scoring).
        self.kv_annotations: list[dict[str, str]] = []

    @property
    def spare_endpoints(self) -> list[str]:
        return self.endpoints[self.sims :]

    def pod(self, index: int) -> dict[str, Any]:
        pod = sim_pod(
            name=f"sim-{index}",
            namespace=self.namespace,
            app=self.app,
            endpoint=self.endpoints[index],
        )
        if index < len(self.kv_annotations):
            pod["metadata"]["annotations"].update(self.kv_annotations[index])
        return pod

    def manifest(self, index: int) -> Path:
        return self.manifests_dir / f"sim-{index}.yaml"

    def part_addresses(self) -> list[dict[str, str]]:
        """Per simulator: the path of its Pod manifest."""
        return [{"manifest": str(self.manifest(index))} for index in range(len(self.endpoints))]

    def write_manifests(self) -> None:
        """The Pod manifest of each simulator, for ``kubectl apply -f``."""
        self.manifests_dir.mkdir(parents=True, exist_ok=True)
        for index in range(len(self.endpoints)):
            text = yaml.safe_dump(self.pod(index), sort_keys=False)
            self.manifest(index).write_text(text, encoding="utf-8")

    def objects(self, objectives: Mapping[str, int]) -> list[dict[str, Any]]:
        """What :meth:`create` creates after the CRDs, in order."""
        namespaces = [] if self.namespace == "default" else [namespace_object(self.namespace)]
        pool = inference_pool(
            name=self.name, namespace=self.namespace, app=self.app, port=self.port
        )
        wanted = [
            inference_objective(name=name, namespace=self.namespace, pool=self.name, priority=p)
            for name, p in objectives.items()
        ]
        return [*namespaces, pool, *wanted, *(self.pod(i) for i in range(self.sims))]

    async def create(
        self, api_url: str, *, objectives: Mapping[str, int], timeout_s: float
    ) -> None:
        """Apply the CRDs, create the objects, write the Pod manifests, wait for Pods."""
        crds = crd_documents(self.crds_dir)
        async with local_http_client(timeout_s=5.0) as client:
            client.base_url = api_url
            await apply_crds(client, crds, timeout_s=timeout_s)
            await create_objects(client, self.objects(objectives))
            self.write_manifests()
            names = [f"sim-{index}" for index in range(self.sims)]
            await wait_pods_ready(client, self.namespace, names, timeout_s=timeout_s)
