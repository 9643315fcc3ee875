"""The Kubernetes source of the ingest service.

How it is put together:

* pure parts: :mod:`gie.label_selector` (selector strings), :mod:`.pool_spec`
  (InferencePool → selector and ports), :mod:`.pod_endpoints` (Pod → endpoints),
  :mod:`.pool_refs` (InferenceObjective / InferenceModelRewrite → facts);
* adapters: :mod:`.config` (the ApiClient), :mod:`.discovery`, :mod:`.resource`
  (list and watch one kind, raw JSON);
* :mod:`.watch`: the informer (list, watch, resume, relist on 410, backoff);
* :mod:`.source`: the watchers of one pool and the desired state they imply.

Concurrency: one asyncio loop; each watcher is one task, handlers run on it.
"""

from __future__ import annotations

from gie_ingest.kube.errors import (
    Expired,
    InvalidObject,
    KubeConfigError,
    KubeSourceError,
    WatchFailed,
)
from gie_ingest.kube.watch import Watcher, WatchEvent, WatchMetrics

__all__ = [
    "Expired",
    "InvalidObject",
    "KubeConfigError",
    "KubeSourceError",
    "WatchEvent",
    "WatchFailed",
    "WatchMetrics",
    "Watcher",
]
