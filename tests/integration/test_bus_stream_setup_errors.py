"""Setting up gie's streams on a server where they cannot be made: the error says why."""

from __future__ import annotations

import nats
import pytest

from gie.bus import NatsEventBus
from gie.bus.errors import GieBusError
from tests.support.servers import nats_server

pytestmark = pytest.mark.integration


async def test_a_stream_whose_subjects_another_stream_holds_is_refused_saying_so() -> None:
    with nats_server() as url:
        nc = await nats.connect(url)
        try:
            await nc.jetstream().add_stream(name="SOMEONE_ELSE", subjects=["gie.v1.>"])
        finally:
            await nc.close()
        async with NatsEventBus(url, name="setup") as bus:
            with pytest.raises(GieBusError, match="overlap") as caught:
                await bus.ensure_streams()
        assert "not found" not in str(caught.value)
