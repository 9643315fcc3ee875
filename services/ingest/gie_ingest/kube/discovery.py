"""API discovery: is a resource served, and where are its objects."""

from __future__ import annotations

import aiohttp
import orjson
from kubernetes_asyncio import client

from gie_ingest.kube.errors import WatchFailed


async def serves(api: client.ApiClient, group: str, version: str, plural: str) -> bool:
    """True when ``/apis/<group>/<version>`` lists ``plural`` (its CRD is installed)."""
    try:
        response = await api.call_api(
            f"/apis/{group}/{version}",
            "GET",
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
            _preload_content=False,
            _request_timeout=aiohttp.ClientTimeout(total=30),
        )
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise WatchFailed(f"discovery of {group}/{version}: {exc!r}", reason="connection") from exc
    try:
        if response.status == 404:
            return False
        if response.status != 200:
            raise WatchFailed(
                f"discovery of {group}/{version}: HTTP {response.status}", reason="http"
            )
        raw = await response.read()
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise WatchFailed(f"discovery of {group}/{version}: {exc!r}", reason="connection") from exc
    finally:
        response.release()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:  # an auth proxy's login page, say
        raise WatchFailed(
            f"discovery of {group}/{version}: not JSON: {raw[:100]!r}", reason="decode"
        ) from exc
    resources = body.get("resources") if isinstance(body, dict) else None
    if not isinstance(resources, list | None):
        raise WatchFailed(f"discovery of {group}/{version}: no resources list", reason="decode")
    return any(
        isinstance(resource, dict) and resource.get("name") == plural
        for resource in resources or ()
    )


def collection_path(group: str, version: str, namespace: str, plural: str) -> str:
    if not group:
        return f"/api/{version}/namespaces/{namespace}/{plural}"
    return f"/apis/{group}/{version}/namespaces/{namespace}/{plural}"
