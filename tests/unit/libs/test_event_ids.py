"""Event ids: unique, 32 hex digits, and distinct in a forked child process."""

from __future__ import annotations

import os
import re

from gie.events import new_event_id
from tests.support.routing_events import routed


def test_ids_are_unique_32_hex_digits_and_every_event_gets_one() -> None:
    ids = [new_event_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch("[0-9a-f]{32}", i) for i in ids)
    assert routed("p/q", 1).event_id != routed("p/q", 1).event_id


def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report two ids, then leave without cleanup
        os.close(read_end)
        os.write(write_end, f"{new_event_id()} {new_event_id()}".encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        child_ids = pipe.read().split()
    os.waitpid(pid, 0)
    parent_ids = [new_event_id() for _ in range(2)]
    assert len(child_ids) == 2
    assert child_ids[0][:16] != parent_ids[0][:16]
    assert not set(child_ids) & set(parent_ids)
