"""Optimistic concurrency under contention: read, change, write with the version read,
retry on 409. Every increment lands exactly once, and one of two contenders for a
Lease wins."""

from __future__ import annotations

import asyncio

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

WRITERS = 12


async def _increment(v1: client.CoreV1Api, namespace: str) -> int:
    conflicts = 0
    while True:
        current = await v1.read_namespaced_config_map("counter", namespace)
        current.data = {"n": str(int(current.data["n"]) + 1)}
        try:
            await v1.replace_namespaced_config_map("counter", namespace, current)
            return conflicts
        except ApiException as error:
            assert error.status == 409
            conflicts += 1


async def test_concurrent_read_modify_writes_each_land_once(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    await v1.create_namespaced_config_map(
        namespace, {"metadata": {"name": "counter"}, "data": {"n": "0"}}
    )
    conflicts = await asyncio.gather(*(_increment(v1, namespace) for _ in range(WRITERS)))
    final = await v1.read_namespaced_config_map("counter", namespace)
    assert final.data == {"n": str(WRITERS)}
    assert sum(conflicts) > 0  # they did contend


async def test_one_of_two_contenders_takes_a_free_lease(
    api: client.ApiClient, namespace: str
) -> None:
    leases = client.CoordinationV1Api(api)
    created = await leases.create_namespaced_lease(
        namespace, {"metadata": {"name": "leader"}, "spec": {"leaseDurationSeconds": 15}}
    )

    async def take(identity: str) -> bool:
        body = {
            "metadata": {"name": "leader", "resourceVersion": created.metadata.resource_version},
            "spec": {"holderIdentity": identity, "leaseDurationSeconds": 15},
        }
        try:
            await leases.replace_namespaced_lease("leader", namespace, body)
        except ApiException as error:
            assert error.status == 409
            return False
        return True

    outcomes = await asyncio.gather(take("replica-a"), take("replica-b"))
    assert sorted(outcomes) == [False, True]
    holder = (await leases.read_namespaced_lease("leader", namespace)).spec.holder_identity
    assert holder == ("replica-a" if outcomes[0] else "replica-b")
