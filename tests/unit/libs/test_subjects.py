from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gie.bus import subject_matches
from gie.bus.streams import ALL_STREAMS
from gie.events import subjects


@given(st.text(min_size=1))
def test_any_token_round_trips(value: str) -> None:
    token = subjects.escape_token(value)
    assert subjects.unescape_token(token) == value
    assert not any(c in token for c in ".*> \t\r\n")


@pytest.mark.parametrize(
    "pool",
    ["default/sim-pool", "team.a/pool.v1", "ns/name_with_underscore", "ns/n", "kube-system/x"],
)
def test_pool_keys_round_trip_and_stay_one_token(pool: str) -> None:
    subject = subjects.endpoint_subject(pool, "10.0.0.1:8000")
    assert subject.split(".")[2] == subjects.escape_token(pool)
    assert len(subject.split(".")) == 5
    assert subjects.pool_of(subject) == pool


def test_pools_do_not_collide() -> None:
    # "a/b_2Fc" and "a/b/c"-like keys must escape differently.
    assert subjects.escape_token("a/b_2Fc") != subjects.escape_token("a/b/c")


def test_every_event_subject_is_stored_by_exactly_one_stream() -> None:
    pool, address = "default/p", "10.0.0.1:80"
    for subject in (
        subjects.endpoint_subject(pool, address),
        subjects.metrics_subject(pool, address),
        subjects.routing_subject(pool, "routed"),
        subjects.routing_subject(pool, "completed"),
        subjects.objective_subject(pool, "batch.jobs"),
        subjects.saturation_subject(pool),
    ):
        owners = [
            s.name for s in ALL_STREAMS if any(subject_matches(p, subject) for p in s.subjects)
        ]
        assert len(owners) == 1, (subject, owners)


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("a.*.c", "a.b.c", True),
        ("a.*.c", "a.b.d", False),
        ("a.>", "a.b.c", True),
        ("a.>", "a", False),
        ("a.b", "a.b.c", False),
        ("gie.v1.*.endpoint.>", "gie.v1.p.endpoint.x", True),
    ],
)
def test_subject_wildcards(pattern: str, subject: str, matches: bool) -> None:
    assert subject_matches(pattern, subject) is matches
