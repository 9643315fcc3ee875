"""The Kubernetes source: watchers of one pool's objects, and the state they imply.

``GIE_DISCOVERY=kubernetes`` watches, in the namespace of ``GIE_POOL``:

* the InferencePool by name (``fieldSelector=metadata.name=<name>``); its selector
  and target ports decide which Pods are watched (a server-side label selector; a
  changed selector restarts the Pod watch, an absent or invalid pool watches none);
* those Pods, each Ready one with an IP and no deletionTimestamp giving one endpoint
  per target port (:mod:`gie_ingest.kube.pod_endpoints`), labelled with the KV-event
  addresses its ``gie.dev/kv-events`` annotations give (:mod:`.kv_annotations`);
* InferenceObjectives of ``llm-d.ai/v1alpha2``, or of
  ``inference.networking.x-k8s.io/v1alpha2`` when the llm-d.ai kind is not
  installed (API discovery, checked again at every relist and watch restart);
* InferenceModelRewrites of ``llm-d.ai/v1alpha2``.

``GIE_DISCOVERY=selector`` watches only Pods, with ``GIE_ENDPOINT_SELECTOR`` and
``GIE_TARGET_PORTS``, and publishes no objectives or rewrites.

Concurrency: every watcher is a task of :meth:`KubeSource.run`; their handlers update
the desired state here and call ``on_change`` (all on one loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from kubernetes_asyncio import client
from prometheus_client import CollectorRegistry, Counter, Gauge

from gie.events import Endpoint
from gie_ingest.kube.backoff import Backoff
from gie_ingest.kube.discovery import collection_path, serves
from gie_ingest.kube.errors import InvalidObject
from gie_ingest.kube.kv_annotations import with_kv_event_addresses
from gie_ingest.kube.pod_endpoints import pod_endpoints
from gie_ingest.kube.pool_refs import Rewrite, objective_priority, rewrite_of
from gie_ingest.kube.pool_spec import V1_GROUP, PoolSpec, pool_spec
from gie_ingest.kube.resource import ApiResource
from gie_ingest.kube.watch import DELETED, Watcher, WatchEvent, WatchMetrics, object_key
from gie_ingest.settings import IngestSettings

_log = structlog.get_logger("gie.ingest.kube")

LLM_D = "llm-d.ai"
X_K8S = "inference.networking.x-k8s.io"
CR_VERSION = "v1alpha2"


class KubeSource:
    """Desired endpoints, objectives and rewrites of one pool, from the API server."""

    def __init__(
        self,
        api: client.ApiClient,
        settings: IngestSettings,
        *,
        registry: CollectorRegistry,
        on_change: Callable[[], None],
        backoff: Callable[[], Backoff] | None = None,
    ) -> None:
        self.namespace, self.pool_name = settings.pool.split("/", 1)
        self._api = api
        self._on_change = on_change
        self._group = settings.pool_group
        self._selector_mode = settings.discovery == "selector"
        maximum = settings.kube_backoff_max_s
        self._make_backoff = backoff or (lambda: Backoff(maximum_s=maximum))
        self._watch_timeout_s = settings.kube_watch_timeout_s
        self._metrics = WatchMetrics(registry)
        self._invalid = Counter(
            "gie_ingest_invalid_objects_total",
            "Objects skipped because their content is invalid, by kind.",
            ["kind"],
            registry=registry,
        )
        self._present = Gauge(
            "gie_ingest_pool_present",
            "1 while the InferencePool exists and is valid (always 1 in selector mode).",
            registry=registry,
        )
        self.spec: PoolSpec | None = None
        self.pool_problem: str | None = f"InferencePool {settings.pool} not found"
        self._members: dict[str, list[Endpoint]] = {}
        self._objectives: dict[str, int] = {}
        self._rewrites: dict[str, Rewrite] = {}
        self.pools: Watcher | None = None
        self._objective_watcher: Watcher | None = None
        self._rewrite_watcher: Watcher | None = None
        pods = ApiResource(api, name="pods", path_of=self._path("", "v1", "pods"))
        if self._selector_mode:
            self.spec = PoolSpec(settings.endpoint_selector or "", settings.ports())
            self.pool_problem = None
            self._present.set(1)
            self.pods = self._watcher(pods, self._on_pod, label_selector=self.spec.selector)
            self.watchers = [self.pods]
            return
        self.pods = self._watcher(pods, self._on_pod, selector_required=True)
        self.pools = self._watcher(
            ApiResource(
                api,
                name="inferencepools",
                path_of=self._path(
                    self._group, "v1" if self._group == V1_GROUP else CR_VERSION, "inferencepools"
                ),
                field_selector=f"metadata.name={self.pool_name}",
            ),
            self._on_pool,
            on_listed=self._on_pools_listed,
        )
        self._objective_watcher = self._watcher(
            ApiResource(api, name="inferenceobjectives", path_of=self._objectives_path),
            self._on_objective,
        )
        self._rewrite_watcher = self._watcher(
            ApiResource(
                api,
                name="inferencemodelrewrites",
                path_of=self._served(LLM_D, "inferencemodelrewrites"),
            ),
            self._on_rewrite,
        )
        self.watchers = [self.pools, self.pods, self._objective_watcher, self._rewrite_watcher]

    def _watcher(
        self,
        resource: ApiResource,
        handler: Callable[[WatchEvent], None],
        *,
        on_listed: Callable[[], None] | None = None,
        label_selector: str | None = None,
        selector_required: bool = False,
    ) -> Watcher:
        return Watcher(
            resource,
            handler=handler,
            on_listed=on_listed or self._on_change,
            metrics=self._metrics,
            backoff=self._make_backoff(),
            label_selector=label_selector,
            selector_required=selector_required,
            timeout_s=self._watch_timeout_s,
        )

    # -- paths -----------------------------------------------------------------
    def _path(self, group: str, version: str, plural: str) -> Callable[[], Any]:
        path = collection_path(group, version, self.namespace, plural)

        async def path_of() -> str | None:
            return path

        return path_of

    def _served(self, group: str, plural: str) -> Callable[[], Any]:
        async def path_of() -> str | None:
            if await serves(self._api, group, CR_VERSION, plural):
                return collection_path(group, CR_VERSION, self.namespace, plural)
            return None

        return path_of

    async def _objectives_path(self) -> str | None:
        for group in (LLM_D, X_K8S):  # llm-d.ai wins when both are installed
            if await serves(self._api, group, CR_VERSION, "inferenceobjectives"):
                return collection_path(group, CR_VERSION, self.namespace, "inferenceobjectives")
        return None

    # -- handlers --------------------------------------------------------------
    def _on_pool(self, event: WatchEvent) -> None:
        spec: PoolSpec | None = None
        if event.type == DELETED:
            problem: str | None = f"InferencePool {self.namespace}/{self.pool_name} not found"
        else:
            try:
                spec, problem = pool_spec(event.obj, group=self._group), None
            except InvalidObject as exc:
                self._invalid.labels("InferencePool").inc()
                problem = f"InferencePool {self.namespace}/{self.pool_name} is invalid: {exc}"
        if problem is not None and problem != self.pool_problem:
            _log.warning("pool unusable; no endpoints published", reason=problem)
        elif problem is None and self.pool_problem is not None:
            _log.info("pool found", pool=self.pool_name, selector=spec and spec.selector)
        self.pool_problem = problem
        self._present.set(1 if spec is not None else 0)
        ports_changed = (spec.ports if spec else None) != (self.spec.ports if self.spec else None)
        self.spec = spec
        self.pods.retarget(spec.selector if spec else None)
        if ports_changed:
            self._members = {key: self._endpoints_of(pod) for key, pod in self.pods.cache.items()}
        self._on_change()

    def _on_pools_listed(self) -> None:
        if self.pools is not None and not self.pools.cache:
            _log.warning("pool unusable; no endpoints published", reason=self.pool_problem)
        self._on_change()

    def _endpoints_of(self, pod: dict[str, Any]) -> list[Endpoint]:
        if self.spec is None:
            return []
        name = str(pod.get("metadata", {}).get("name"))
        try:
            endpoints = pod_endpoints(pod, self.spec.ports)
        except InvalidObject as exc:
            self._skip("Pod", name, exc)
            return []
        except Exception:  # a Pod no rule foresaw: skipped, never the watch's end
            self._invalid.labels("Pod").inc()
            _log.exception("unreadable object skipped", kind="Pod", name=name)
            return []
        try:
            return with_kv_event_addresses(pod, endpoints)
        except InvalidObject as exc:  # the Pod still serves; its KV events use the default
            self._invalid.labels("Pod").inc()
            _log.error("invalid annotation ignored", kind="Pod", name=name, error=str(exc))
            return endpoints
        except Exception:
            self._invalid.labels("Pod").inc()
            _log.exception("unreadable annotation ignored", kind="Pod", name=name)
            return endpoints

    def _on_pod(self, event: WatchEvent) -> None:
        key = object_key(event.obj)
        if event.type == DELETED:
            self._members.pop(key, None)
        else:
            self._members[key] = self._endpoints_of(event.obj)
        self._on_change()

    def _on_objective(self, event: WatchEvent) -> None:
        name = event.obj["metadata"]["name"]
        self._objectives.pop(name, None)
        if event.type != DELETED:
            try:
                priority = objective_priority(event.obj, self.pool_name)
            except InvalidObject as exc:
                self._skip("InferenceObjective", name, exc)
                priority = None
            if priority is not None:
                self._objectives[name] = priority
        self._on_change()

    def _on_rewrite(self, event: WatchEvent) -> None:
        name = event.obj["metadata"]["name"]
        self._rewrites.pop(name, None)  # an invalid new version removes the old rules
        if event.type != DELETED:
            try:
                rewrite = rewrite_of(event.obj, self.pool_name)
            except InvalidObject as exc:
                self._skip("InferenceModelRewrite", name, exc)
                rewrite = None
            if rewrite is not None:
                self._rewrites[name] = rewrite
        self._on_change()

    def _skip(self, kind: str, name: str, exc: InvalidObject) -> None:
        self._invalid.labels(kind).inc()
        _log.error("invalid object skipped", kind=kind, name=name, error=str(exc))

    # -- state -----------------------------------------------------------------
    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for watcher in self.watchers:
                group.create_task(watcher.run())

    @property
    def current(self) -> bool:
        """True when the pool and its Pods are listed, with the selector the pool asks
        for. (Objectives and rewrites count once listed: a failing watch of one of
        them does not hold back the endpoints.)"""
        membership = [self.pods] if self.pools is None else [self.pools, self.pods]
        return all(w.synced.is_set() and w.current for w in membership) and (
            self.pods.label_selector == (self.spec.selector if self.spec else None)
        )

    def endpoints(self) -> tuple[Endpoint, ...]:
        if self.spec is None:
            return ()
        return tuple(endpoint for key in sorted(self._members) for endpoint in self._members[key])

    @staticmethod
    def _listed(watcher: Watcher | None) -> bool:
        return watcher is not None and watcher.synced.is_set()

    def objectives(self) -> dict[str, int] | None:
        """Objectives to publish; None (leave them) in selector mode or before listed."""
        return dict(self._objectives) if self._listed(self._objective_watcher) else None

    def rewrites(self) -> dict[str, Rewrite] | None:
        return dict(self._rewrites) if self._listed(self._rewrite_watcher) else None
