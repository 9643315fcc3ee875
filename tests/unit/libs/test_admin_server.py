"""The admin server: probes answered with a current Date header, and gone once stopped."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx
import pytest
from prometheus_client import CollectorRegistry

from gie.events import utc_now
from gie.telemetry.admin import AdminServer, build_admin_app
from gie.telemetry.health import Health


async def test_probes_carry_a_current_date_and_stop_closes_the_port() -> None:
    app = build_admin_app(service="t", health=Health(), registry=CollectorRegistry())
    server = AdminServer(app, host="127.0.0.1", port=0)
    await server.start()
    url = f"http://127.0.0.1:{server.port}"
    try:
        async with httpx.AsyncClient(trust_env=False) as client:
            answer = await client.get(f"{url}/healthz")
        assert answer.status_code == 200
        sent = parsedate_to_datetime(answer.headers["date"])
        assert abs((utc_now() - sent).total_seconds()) < 5
    finally:
        await server.stop()
    async with httpx.AsyncClient(trust_env=False) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{url}/healthz")


async def test_a_route_may_return_plain_data_and_errors_answer_json() -> None:
    app = build_admin_app(service="t", health=Health(), registry=CollectorRegistry())

    @app.get("/debug/state")
    async def state() -> dict[str, object]:
        return {"endpoints": 3, "names": ["a", "b"]}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as client:
        data = await client.get("/debug/state")
        missing = await client.get("/debug/nothing")
        posted = await client.post("/readyz")
    assert (data.status_code, data.json()) == (200, {"endpoints": 3, "names": ["a", "b"]})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert (posted.status_code, posted.json()) == (405, {"detail": "Method Not Allowed"})
    # Starlette lists the methods from a set: their order changes from run to run.
    assert sorted(posted.headers["allow"].split(", ")) == ["GET", "HEAD"]
