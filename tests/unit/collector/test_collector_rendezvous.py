"""Rendezvous hashing: every replica agrees, the load is spread, little moves on change."""

from __future__ import annotations

from collections import Counter

from gie_metrics_collector.ha import Ownership, rendezvous_owner

ENDPOINTS = [f"10.0.{i // 250}.{i % 250}:8000" for i in range(600)]


def owners(members: set[str]) -> dict[str, str | None]:
    return {e: rendezvous_owner(e, members) for e in ENDPOINTS}


def test_replicas_agree_and_each_endpoint_has_exactly_one_owner() -> None:
    replicas = {name: Ownership(name) for name in ("a", "b", "c")}
    for ownership in replicas.values():
        ownership.update(replicas)
    for endpoint in ENDPOINTS:
        assert sum(o.owns(endpoint) for o in replicas.values()) == 1


def test_the_load_is_spread_evenly() -> None:
    counts = Counter(owners({"a", "b", "c"}).values())
    assert all(150 <= n <= 250 for n in counts.values())


def test_only_a_dead_members_endpoints_move() -> None:
    before = owners({"a", "b", "c"})
    after = owners({"a", "b"})
    moved = [e for e in ENDPOINTS if before[e] != after[e]]
    assert moved and all(before[e] == "c" for e in moved)


def test_a_replica_always_counts_itself_and_one_leads_saturation() -> None:
    alone = Ownership("a")
    assert alone.members == {"a"} and alone.leads_saturation
    assert not alone.update({"a"})
    assert alone.update({"b"})
    assert alone.members == {"a", "b"}
    other = Ownership("b")
    other.update({"a"})
    assert alone.leads_saturation != other.leads_saturation
