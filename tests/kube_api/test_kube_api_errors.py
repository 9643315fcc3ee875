"""Every failure is a Kubernetes Status with the reason and code a real server gives."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import yaml
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.kube_api.manifests import POOL_CRD, POOL_GROUP, pod, pool
from tests.kube_api.server_process import ServedApi


def _status(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    assert body["kind"] == "Status"
    assert body["status"] == "Failure"
    assert body["code"] == error.status
    return body


async def _pool_crd(api: client.ApiClient) -> None:
    crds = client.ApiextensionsV1Api(api)
    try:
        await crds.create_custom_resource_definition(yaml.safe_load(POOL_CRD))
    except ApiException as error:
        assert error.status == 409


async def test_a_missing_object_is_404_not_found(api: client.ApiClient, namespace: str) -> None:
    with pytest.raises(ApiException) as caught:
        await client.CoreV1Api(api).read_namespaced_pod("ghost", namespace)
    status = _status(caught.value)
    assert status["reason"] == "NotFound"
    assert status["message"] == 'pods "ghost" not found'
    assert status["details"] == {"name": "ghost", "kind": "pods"}


async def test_creating_twice_is_409_already_exists(api: client.ApiClient, namespace: str) -> None:
    v1 = client.CoreV1Api(api)
    await v1.create_namespaced_pod(namespace, pod("twice"))
    with pytest.raises(ApiException) as caught:
        await v1.create_namespaced_pod(namespace, pod("twice"))
    status = _status(caught.value)
    assert (status["code"], status["reason"]) == (409, "AlreadyExists")
    assert status["message"] == 'pods "twice" already exists'


async def test_an_update_from_a_stale_version_is_409_conflict(
    api: client.ApiClient, namespace: str
) -> None:
    leases = client.CoordinationV1Api(api)
    body = {"metadata": {"name": "leader"}, "spec": {"holderIdentity": "a"}}
    created = await leases.create_namespaced_lease(namespace, body)
    first = {
        **body,
        "metadata": {"name": "leader", "resourceVersion": created.metadata.resource_version},
    }
    first["spec"] = {"holderIdentity": "b"}
    updated = await leases.replace_namespaced_lease("leader", namespace, first)
    assert updated.spec.holder_identity == "b"
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)

    stale = {**first, "spec": {"holderIdentity": "c"}}
    with pytest.raises(ApiException) as caught:
        await leases.replace_namespaced_lease("leader", namespace, stale)
    status = _status(caught.value)
    assert (status["code"], status["reason"]) == (409, "Conflict")
    assert status["message"] == (
        'Operation cannot be fulfilled on leases.coordination.k8s.io "leader": the object has '
        "been modified; please apply your changes to the latest version and try again"
    )
    assert status["details"] == {"name": "leader", "group": "coordination.k8s.io", "kind": "leases"}
    current = await leases.read_namespaced_lease("leader", namespace)
    assert current.spec.holder_identity == "b"


async def test_creating_in_a_missing_namespace_is_404(api: client.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        await client.CoreV1Api(api).create_namespaced_config_map(
            "nowhere", {"metadata": {"name": "c"}}
        )
    status = _status(caught.value)
    assert status["reason"] == "NotFound"
    assert status["message"] == 'namespaces "nowhere" not found'


async def test_an_invalid_custom_resource_is_422_naming_each_field(
    api: client.ApiClient, namespace: str
) -> None:
    await _pool_crd(api)
    body = pool("bad")
    body["spec"]["targetPorts"] = [{"number": 0}, {"number": 70000}]
    body["spec"]["appProtocol"] = "h3"
    del body["spec"]["selector"]
    with pytest.raises(ApiException) as caught:
        await client.CustomObjectsApi(api).create_namespaced_custom_object(
            POOL_GROUP, "v1", namespace, "inferencepools", body
        )
    status = _status(caught.value)
    assert (status["code"], status["reason"]) == (422, "Invalid")
    causes = {cause["field"]: cause for cause in status["details"]["causes"]}
    assert set(causes) == {
        "spec.selector",
        "spec.targetPorts[0].number",
        "spec.targetPorts[1].number",
        "spec.appProtocol",
    }
    assert causes["spec.selector"]["reason"] == "FieldValueRequired"
    assert causes["spec.targetPorts[0].number"]["message"] == (
        "Invalid value: 0: spec.targetPorts[0].number in body should be greater than or equal to 1"
    )
    assert causes["spec.appProtocol"]["message"] == (
        'Unsupported value: "h3": supported values: "http", "kubernetes.io/h2c"'
    )
    assert status["message"].startswith(
        'InferencePool.inference.networking.k8s.io "bad" is invalid: ['
    )
    assert status["details"]["kind"] == "InferencePool"


async def test_an_invalid_pod_is_422(api: client.ApiClient, namespace: str) -> None:
    body = pod("nameless-image")
    body["spec"]["containers"][0].pop("image")
    with pytest.raises(ApiException) as caught:
        await client.CoreV1Api(api).create_namespaced_pod(namespace, body)
    status = _status(caught.value)
    assert status["message"] == (
        'Pod "nameless-image" is invalid: spec.containers[0].image: Required value'
    )


@pytest.mark.parametrize(
    ("method", "path", "code", "reason"),
    [
        ("POST", "/api/v1/namespaces/default/configmaps/x", 405, "MethodNotAllowed"),
        ("GET", "/api/v1/widgets", 404, "NotFound"),
        ("GET", "/apis/example.com/v1/things", 404, "NotFound"),
        ("GET", "/api/v1/pods?labelSelector=app%20in%20(a", 400, "BadRequest"),
        ("GET", "/api/v1/pods?fieldSelector=spec.image%3Dx", 400, "BadRequest"),
        ("GET", "/api/v1/pods?resourceVersion=abc&resourceVersionMatch=Exact", 400, "BadRequest"),
        ("GET", "/api/v1/pods?resourceVersion=999999999", 504, "Timeout"),
        ("GET", "/api/v1/pods?resourceVersionMatch=Exact", 422, "Invalid"),
        # A watch is refused before its stream starts: a Status, not a 200 cut short.
        ("GET", "/api/v1/pods?watch=true&resourceVersion=abc", 400, "BadRequest"),
        (
            "GET",
            "/api/v1/pods?resourceVersion=%C2%B2&resourceVersionMatch=Exact",
            400,
            "BadRequest",
        ),
    ],
    ids=[
        "post-to-an-object",
        "unknown-resource",
        "unknown-group",
        "bad-label-selector",
        "unsupported-field-selector",
        "bad-resource-version",
        "future-resource-version",
        "match-without-version",
        "watch-bad-resource-version",
        "superscript-resource-version",
    ],
)
async def test_request_errors_are_status_objects(
    served_api: ServedApi, method: str, path: str, code: int, reason: str
) -> None:
    async with httpx.AsyncClient(base_url=served_api.url) as http:
        response = await http.request(method, path, json={} if method == "POST" else None)
    assert response.status_code == code
    body = response.json()
    assert (body["kind"], body["code"], body["reason"]) == ("Status", code, reason)


async def test_unknown_fields_are_refused_under_strict_and_warned_about_otherwise(
    served_api: ServedApi, api: client.ApiClient, namespace: str
) -> None:
    await _pool_crd(api)
    body = pool("strict")
    body["spec"]["surprise"] = True
    url = f"{served_api.url}/apis/{POOL_GROUP}/v1/namespaces/{namespace}/inferencepools"
    async with httpx.AsyncClient() as http:
        refused = await http.post(url, params={"fieldValidation": "Strict"}, json=body)
        warned = await http.post(url, json=body)
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        'InferencePool in version "v1" cannot be handled as a InferencePool: '
        'strict decoding error: unknown field "spec.surprise"'
    )
    assert warned.status_code == 201
    assert warned.headers["Warning"] == '299 - "unknown field \\"spec.surprise\\""'
    assert "surprise" not in warned.json()["spec"]


async def test_the_protected_namespaces_cannot_be_deleted(api: client.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        await client.CoreV1Api(api).delete_namespace("default")
    status = _status(caught.value)
    assert (status["code"], status["reason"]) == (403, "Forbidden")
