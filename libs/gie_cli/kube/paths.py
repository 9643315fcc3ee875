"""Resource URLs: ``/api/v1/...`` and ``/apis/<group>/<version>/...`` read as a target.

::

    <prefix>/<plural>                                     collection (cluster, or all namespaces)
    <prefix>/<plural>/<name>[/<subresource>]              cluster-scoped object
    <prefix>/namespaces/<ns>/<plural>                     collection in a namespace
    <prefix>/namespaces/<ns>/<plural>/<name>[/<sub>]      namespaced object
"""

from __future__ import annotations

from dataclasses import dataclass

from gie_cli.kube.catalog import Catalog
from gie_cli.kube.status import KubeError, status_object
from gie_cli.kube.targets import Target

__all__ = ["ResourcePath", "not_served", "resolve"]


@dataclass(frozen=True, slots=True)
class ResourcePath:
    target: Target
    collection: bool


def not_served() -> KubeError:
    return KubeError(
        status_object(
            code=404,
            reason="NotFound",
            message="the server could not find the requested resource",
            details={},
        )
    )


def _target(
    catalog: Catalog,
    where: tuple[str, str, str],
    namespace: str | None,
    rest: list[str],
) -> ResourcePath:
    group, version, plural = where
    try:
        rtype, spec = catalog.lookup(group, version, plural)
    except KeyError:
        raise not_served() from None
    if len(rest) > 2:
        raise not_served()
    name = rest[0] if rest else ""
    subresource = rest[1] if len(rest) > 1 else ""
    if subresource and subresource not in spec.subresources:
        raise not_served()
    if rtype.namespaced and namespace is None and name:
        raise not_served()
    if not rtype.namespaced and namespace is not None:
        raise not_served()
    if rtype.namespaced is False:
        namespace = ""
    return ResourcePath(Target(rtype, version, namespace, name, subresource), collection=not name)


def resolve(catalog: Catalog, group: str, version: str, segments: list[str]) -> ResourcePath:
    """The target of the path segments after ``<prefix>``; 404 when nothing is served there."""
    if not segments or any(not s for s in segments):
        raise not_served()
    if segments[0] == "namespaces" and len(segments) >= 3:
        try:
            rtype, _ = catalog.lookup(group, version, segments[2])
        except KeyError:
            rtype = None
        if rtype is not None and rtype.namespaced:
            return _target(catalog, (group, version, segments[2]), segments[1], segments[3:])
    return _target(catalog, (group, version, segments[0]), None, segments[1:])
