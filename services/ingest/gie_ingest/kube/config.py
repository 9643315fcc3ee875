"""A kubernetes-asyncio ApiClient from the ingest settings.

``GIE_KUBECONFIG`` when set; otherwise the in-cluster service account when
``KUBERNETES_SERVICE_HOST`` is set (a Pod); otherwise ``$KUBECONFIG`` or
``~/.kube/config``, as kubectl does.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubernetes_asyncio import client, config
from kubernetes_asyncio.config.config_exception import ConfigException

from gie_ingest.kube.errors import KubeConfigError


async def api_client(kubeconfig: Path | None) -> client.ApiClient:
    configuration = client.Configuration()
    try:
        if kubeconfig is not None:
            await config.load_kube_config(
                config_file=str(kubeconfig), client_configuration=configuration
            )
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            await config.load_kube_config(client_configuration=configuration)
    except ConfigException as exc:
        where = f"GIE_KUBECONFIG={kubeconfig}" if kubeconfig else "KUBECONFIG / in-cluster"
        raise KubeConfigError(f"cannot configure the Kubernetes client ({where}): {exc}") from exc
    return client.ApiClient(configuration=configuration)
