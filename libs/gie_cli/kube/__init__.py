"""A Kubernetes API server stand-in: ``gie kube serve``.

No real API server can run where gie is developed, so the project carries its own,
faithful enough that kubectl 1.34 and kubernetes-asyncio cannot tell it from the real
one for the resources gie uses: Namespaces, Pods (with ``status``), ConfigMaps, Leases,
CustomResourceDefinitions and any custom resource a CRD registers. See
docs/kubernetes.md for what it implements and what it does not.

How it is put together (one concept per module)::

    server.KubeApiServer        builds the parts; HTTP on a loopback port; reaper, saver
     ├── http_app               routes; errors as Status objects; discovery, OpenAPI, /version
     │    └── resource_handlers get/list/watch/create/update/patch/delete; Table output
     ├── registry.Registry      Kubernetes write semantics (decode, strategy, validate, 409)
     │    ├── strategy*         per-kind rules: pod_strategy, namespace_strategy, crd_strategy,
     │    │                     custom_resource_strategy (schema_defaults, schema_validation)
     │    ├── deletion          finalizers, graceful Pod deletion, namespace termination
     │    └── json_patches, strategic_merge (patch_meta)
     ├── store.Store            objects by resource and key; revisions; history; watch_hub
     ├── lists, watch_stream    list semantics (versions, paging) and watch streams
     └── catalog                served resource types (resource_types, crd_types)

Errors are :class:`~gie_cli.kube.status.KubeError` (with :class:`InvalidError` for 422),
each carrying the ``Status`` the server answers with.

Concurrency: everything runs on one asyncio event loop. Store, registry and deletions
never await, so every request's read-modify-write is atomic; watch streams are tasks
fed by the store through per-watch queues; the state file is written off the loop.
"""

from __future__ import annotations

from gie_cli.kube.kubeconfig import write_kubeconfig
from gie_cli.kube.server import KubeApiServer, ServerOptions
from gie_cli.kube.state_file import StateFileError
from gie_cli.kube.status import InvalidError, KubeError

__all__ = [
    "InvalidError",
    "KubeApiServer",
    "KubeError",
    "ServerOptions",
    "StateFileError",
    "write_kubeconfig",
]
