"""The ``gie-N`` arms: the real picker, ``python -m gie_picker`` with ``GIE_WORKERS=N``.

Each start publishes a fresh pool of the shared upstreams (:mod:`.pool_events`).

Ports come from one free block: the admin ports (worker ``i`` on ``admin + i``), then,
with several workers, one ext_proc port per worker (``GIE_WORKER_PORT_BASE``), then the
shared ext_proc port. Envoy lists the per-worker ports, as the local stack does. A worker
is ready when its ``/readyz`` answers 200 and its ``/debug/view`` lists the whole pool.
Streams per worker are read from each worker's ``gie_picker_requests_routed_total``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from bench.picker_overhead.pool_events import fresh_pool, seed_pool
from bench.picker_overhead.processes import ProcessSet
from bench.picker_overhead.shared_servers import SharedServers
from gie_cli.devstack.ports import free_port_block
from gie_cli.devstack.readiness import local_http_client

__all__ = ["PickerServers", "routed_total", "start_picker"]

ROUTED_SAMPLE = "gie_picker_requests_routed_total"


def routed_total(page: str) -> int:
    """Requests routed by one worker, summed over endpoints, from its metrics page."""
    total = 0.0
    for line in page.splitlines():
        if line.startswith(ROUTED_SAMPLE + "{") or line.startswith(ROUTED_SAMPLE + " "):
            total += float(line.rsplit(" ", 1)[1])
    return round(total)


@dataclass(frozen=True, slots=True)
class PickerServers:
    ports: tuple[int, ...]
    pgids: tuple[int, ...]
    admin_urls: tuple[str, ...]

    async def stream_counts(self) -> tuple[int, ...]:
        async with local_http_client(timeout_s=5.0) as client:
            pages = [(await client.get(f"{url}/metrics")).text for url in self.admin_urls]
        return tuple(routed_total(page) for page in pages)


async def _sees_pool(client: httpx.AsyncClient, admin_url: str, endpoints: int) -> bool:
    try:
        ready = await client.get(f"{admin_url}/readyz")
        if ready.status_code != 200:
            return False
        view = (await client.get(f"{admin_url}/debug/view")).json()
    except (httpx.HTTPError, ValueError):
        return False
    return len(view.get("endpoints", [])) == endpoints


async def start_picker(
    procs: ProcessSet,
    *,
    workers: int,
    shared: SharedServers,
    env: Mapping[str, str] | None = None,
) -> PickerServers:
    """Start the picker with ``workers`` workers on a fresh pool; wait for every worker.
    ``env``: extra settings (the TLS files and bus credentials of the ``-tls`` arms)."""
    extra = dict(env or {})
    pool = fresh_pool()
    await seed_pool(shared.nats, shared.addresses, pool=pool)
    base = free_port_block(2 * workers + 1)
    worker_base, grpc_port = base + workers, base + 2 * workers
    env = {
        **extra,
        "GIE_NATS_URL": shared.nats.url,
        "GIE_POOL": pool,
        "GIE_GRPC_PORT": str(grpc_port),
        "GIE_ADMIN_HOST": "127.0.0.1",
        "GIE_ADMIN_PORT": str(base),
        "GIE_WORKERS": str(workers),
        "GIE_WORKER_PORT_BASE": str(worker_base if workers > 1 else 0),
        "GIE_INSTANCE_ID": "bench-picker",
        "GIE_LOG_LEVEL": "warning",
    }
    if shared.picker_pythonpath:
        env["PYTHONPATH"] = shared.picker_pythonpath
    picker = procs.start("picker", [sys.executable, "-m", "gie_picker"], env=env)
    admin_urls = tuple(f"http://127.0.0.1:{base + index}" for index in range(workers))
    async with local_http_client() as client:
        for admin_url in admin_urls:

            async def ready(url: str = admin_url) -> bool:
                return await _sees_pool(client, url, len(shared.addresses))

            await procs.wait_ready(picker, ready, timeout_s=120.0)
    ports = tuple(range(worker_base, worker_base + workers)) if workers > 1 else (grpc_port,)
    return PickerServers(ports=ports, pgids=(picker.pid,), admin_urls=admin_urls)
