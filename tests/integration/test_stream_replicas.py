"""GIE_STREAM_REPLICAS: the copies JetStream keeps of every stream a service sets up.

A single nats-server holds one copy; asking it for three is refused at start-up with
an error naming the stream and the replica count, rather than a stream that silently
has fewer copies than the operator asked for.
"""

from __future__ import annotations

import pytest

from gie.bus import NatsEventBus
from gie.bus.errors import GieBusError
from gie.bus.streams import ALL_STREAMS
from gie.config import ServiceSettings

pytestmark = pytest.mark.integration


async def test_streams_get_the_replicas_asked_for(nats_url: str) -> None:
    async with NatsEventBus(nats_url, name="replicas-1", stream_replicas=1) as bus:
        await bus.ensure_streams()
        assert bus._js is not None
        for spec in ALL_STREAMS:
            info = await bus._js.stream_info(spec.name)
            assert info.config.num_replicas == 1, spec.name


async def test_more_replicas_than_nodes_is_refused_naming_the_stream(nats_url: str) -> None:
    async with NatsEventBus(nats_url, name="replicas-3", stream_replicas=3) as bus:
        with pytest.raises(GieBusError, match=r"cannot set up stream \w+ \(3 replicas\)"):
            await bus.ensure_streams()


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIE_STREAM_REPLICAS", "3")
    assert ServiceSettings().stream_replicas == 3
    monkeypatch.setenv("GIE_STREAM_REPLICAS", "0")
    with pytest.raises(ValueError, match="stream_replicas"):
        ServiceSettings()
