"""A CRD serving two versions: stored once at the storage version, shown in either,
discovered with the preferred version first, the deprecated one warned about."""

from __future__ import annotations

import copy

import httpx
import yaml
from kubernetes_asyncio import client

from tests.kube_api.server_process import ServedApi

_CRD = yaml.safe_load(
    """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.gie.dev}
spec:
  group: example.gie.dev
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd], categories: [all]}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: false
    deprecated: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}, color: {type: string}}}
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              color: {type: string, default: blue}
"""
)


async def test_two_served_versions_share_one_stored_object(
    served_api: ServedApi, api: client.ApiClient, namespace: str
) -> None:
    crds, custom = client.ApiextensionsV1Api(api), client.CustomObjectsApi(api)
    await crds.create_custom_resource_definition(copy.deepcopy(_CRD))
    old = {"apiVersion": "example.gie.dev/v1alpha1", "kind": "Widget", "metadata": {"name": "w"}}
    old["spec"] = {"size": 3}
    created = await custom.create_namespaced_custom_object(
        "example.gie.dev", "v1alpha1", namespace, "widgets", old
    )
    assert created["apiVersion"] == "example.gie.dev/v1alpha1"
    assert "color" not in created["spec"]  # v1alpha1 has no default

    shown = await custom.get_namespaced_custom_object(
        "example.gie.dev", "v1", namespace, "widgets", "w"
    )
    assert shown["apiVersion"] == "example.gie.dev/v1"
    assert shown["spec"] == {"size": 3, "color": "blue"}  # v1's default, applied on read
    assert shown["metadata"]["uid"] == created["metadata"]["uid"]

    async with httpx.AsyncClient(base_url=served_api.url) as http:
        group = (await http.get("/apis/example.gie.dev")).json()
        resources = (await http.get("/apis/example.gie.dev/v1alpha1")).json()
        deprecated = await http.get(
            f"/apis/example.gie.dev/v1alpha1/namespaces/{namespace}/widgets"
        )
        current = await http.get(f"/apis/example.gie.dev/v1/namespaces/{namespace}/widgets")
    assert deprecated.headers["Warning"] == (
        '299 - "example.gie.dev/v1alpha1 Widget is deprecated; use example.gie.dev/v1 Widget"'
    )
    assert "Warning" not in current.headers
    assert [v["version"] for v in group["versions"]] == ["v1", "v1alpha1"]
    assert group["preferredVersion"]["version"] == "v1"
    assert resources["resources"][0]["shortNames"] == ["wd"]
    assert resources["resources"][0]["categories"] == ["all"]
    await crds.delete_custom_resource_definition("widgets.example.gie.dev")
