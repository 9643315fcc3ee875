"""The fairness and ordering policies, their registry, and the dispatch decision."""

from __future__ import annotations

import pytest

from gie.flowcontrol import FlowControlConfig, FlowKey
from gie.flowcontrol.policy_parameters import (
    FAIRNESS_POLICY_PARAMETERS,
    ORDERING_POLICY_PARAMETERS,
    NoParameters,
)
from gie_flow_controller.errors import DuplicatePolicyError, UnknownPolicyError
from gie_flow_controller.model import BandTable, BandView, FlowQueue, QueuedRequest, ShardSnapshot
from gie_flow_controller.policies import (
    BestHead,
    FairnessPolicy,
    FirstComeFirstServed,
    PolicyRegistry,
    PolicySet,
    RoundRobin,
    VirtualTokenFairness,
    builtin_policies,
    choose,
)


def flow(fid: str, counter: float = 0.0, heads: tuple[int, ...] = (100,)) -> FlowQueue:
    key = FlowKey(fid, 0)
    head = tuple(QueuedRequest(f"{fid}-{at}", key, at) for at in heads)
    return FlowQueue(key, len(head), 0, counter, head)


BAND = BandView(
    0,
    (flow("a", 30.0, (300,)), flow("b", 10.0, (200,)), flow("c", 10.0, (100,)), flow("d", 5.0, ())),
)


@pytest.mark.parametrize(
    ("policy", "cursor", "expected"),
    [
        (RoundRobin(), None, "a"),
        (RoundRobin(), "a", "b"),
        (RoundRobin(), "b", "c"),
        (RoundRobin(), "c", "a"),  # wraps; d has nothing to offer
        (RoundRobin(), "gone", "a"),  # a cursor on a collected flow: next in order
        (BestHead(), None, "c"),  # earliest head
        (VirtualTokenFairness(), None, "c"),  # smallest counter, tie by earliest head
    ],
    ids=["rr-start", "rr-next", "rr-next2", "rr-wrap", "rr-unknown-cursor", "best-head", "vtc"],
)
def test_fairness_policies_pick_the_flow(
    policy: FairnessPolicy, cursor: str | None, expected: str
) -> None:
    band = BandView(BAND.priority, BAND.flows, cursor)
    chosen = policy.pick_flow(band)
    assert chosen is not None and chosen.fairness_id == expected


@pytest.mark.parametrize("policy", [RoundRobin(), BestHead(), VirtualTokenFairness()])
def test_a_band_without_requests_offers_nothing(policy: FairnessPolicy) -> None:
    assert policy.pick_flow(BandView(0, (flow("d", 0.0, ()),))) is None


def test_fcfs_takes_the_front_of_the_queue() -> None:
    fcfs = FirstComeFirstServed()
    assert fcfs.window == 1
    chosen = fcfs.pick_request(flow("a", heads=(5, 9)))
    assert chosen is not None and chosen.request_id == "a-5"
    assert fcfs.pick_request(flow("a", heads=())) is None


def test_builtins_implement_every_policy_a_config_may_name() -> None:
    policies = builtin_policies()
    assert policies.fairness.types() == sorted(FAIRNESS_POLICY_PARAMETERS)
    assert policies.ordering.types() == sorted(ORDERING_POLICY_PARAMETERS)


def test_registry_refuses_duplicates_and_unknown_names() -> None:
    registry = PolicyRegistry[FairnessPolicy]("fairness")
    registry.register("round-robin", RoundRobin.create, NoParameters)
    with pytest.raises(DuplicatePolicyError, match="round-robin"):
        registry.register("round-robin", RoundRobin.create, NoParameters)
    with pytest.raises(UnknownPolicyError, match=r"'best-head'.*known: round-robin"):
        registry.create("best-head", NoParameters())
    assert "round-robin" in registry and "best-head" not in registry


def test_bands_get_their_configured_policies() -> None:
    config = FlowControlConfig.model_validate(
        {
            "defaultPriorityBand": {"fairnessPolicy": "round-robin"},
            "priorityBands": [
                {
                    "priority": 5,
                    "fairnessPolicy": "virtual-token-fairness",
                    "fairnessParameters": {"outputTokenWeight": 4},
                }
            ],
        }
    )
    policies = PolicySet(BandTable(config), builtin_policies())
    policies.validate()
    assert isinstance(policies.for_band(0).fairness, RoundRobin)
    vtc = policies.for_band(5).fairness
    assert isinstance(vtc, VirtualTokenFairness) and vtc.params.output_token_weight == 4.0
    assert policies.for_band(5) is policies.for_band(5)


@pytest.mark.parametrize(
    ("snapshot", "expected"),
    [
        (ShardSnapshot(0, None, None), None),
        (ShardSnapshot(0, BAND, 0), "c-100"),
        (ShardSnapshot(0, BAND, 3), None),  # a higher band elsewhere: strict priority waits
    ],
    ids=["empty", "top-band", "blocked"],
)
def test_choose(snapshot: ShardSnapshot, expected: str | None) -> None:
    policies = PolicySet(BandTable(FlowControlConfig()), builtin_policies())
    chosen = choose(snapshot, policies)
    assert (chosen.request_id if chosen else None) == expected
