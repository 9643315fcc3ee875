"""Content negotiation: what form the client asked for in its Accept header.

JSON only (no protobuf): a request that accepts nothing the server can write gets 406.
Besides plain objects, clients may ask for ``as=Table`` (kubectl's printing),
``as=PartialObjectMetadata`` / ``PartialObjectMetadataList`` (metadata only) and, on
``/api`` and ``/apis``, ``as=APIGroupDiscoveryList`` (aggregated discovery).
"""

from __future__ import annotations

from dataclasses import dataclass

from gie_cli.kube.status import not_acceptable

__all__ = ["Wanted", "negotiate"]


@dataclass(frozen=True, slots=True)
class Wanted:
    """``form``: "" (the object itself), "Table", "PartialObjectMetadata",
    "PartialObjectMetadataList" or "APIGroupDiscoveryList"; ``version``: of that form."""

    form: str = ""
    version: str = "v1"


_FORMS = {
    ("Table", "meta.k8s.io"),
    ("PartialObjectMetadata", "meta.k8s.io"),
    ("PartialObjectMetadataList", "meta.k8s.io"),
    ("APIGroupDiscoveryList", "apidiscovery.k8s.io"),
}


def _parse(entry: str) -> tuple[str, dict[str, str]]:
    media, *params = [part.strip() for part in entry.split(";")]
    parsed = {}
    for param in params:
        key, _, value = param.partition("=")
        parsed[key.strip()] = value.strip()
    return media.lower(), parsed


def negotiate(accept: str | None, *, allowed: frozenset[str] = frozenset({"", "Table"})) -> Wanted:
    """The first form in ``accept`` that this server can write and the endpoint allows."""
    if not accept:
        return Wanted()
    for entry in accept.split(","):
        media, params = _parse(entry)
        if media not in ("application/json", "*/*", "application/*"):
            continue
        form = params.get("as", "")
        if not form:
            return Wanted()
        if (form, params.get("g", "")) in _FORMS and form in allowed:
            version = params.get("v", "v1")
            if form == "APIGroupDiscoveryList" and version != "v2":
                continue
            return Wanted(form, version)
    raise not_acceptable(
        f"only the following media types are accepted: application/json (asked for: {accept})"
    )
