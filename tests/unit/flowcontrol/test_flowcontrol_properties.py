"""Property tests: the policies and the flow state keep flow control's promises.

The in-memory flow state is driven with the shard workers' own decision code (``choose``)
through random sequences of admissions, dispatches, TTL ticks, cancellations and
completions. After every step: no capacity limit is exceeded and the totals add up;
nothing waits past its TTL; every dispatch respected strict priority and FCFS. At the
end every admitted request has exactly one outcome, and admitting it again returns it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gie.flowcontrol import FlowControlConfig, FlowKey, Outcome
from gie_flow_controller.model import AdmitStatus
from tests.support.flow_model import FlowModel

FAIRNESS = ["round-robin", "best-head", "virtual-token-fairness"]
TENANTS = ["a", "b", "c", "d"]
PRIORITIES = [-1, 0, 3]


@dataclass(frozen=True)
class Admit:
    tenant: str
    priority: int
    byte_size: int
    input_tokens: int
    output_tokens: int
    ttl_ms: int


@dataclass(frozen=True)
class Burst:
    """Several requests of one flow at once (fills bands up to their limits)."""

    admit: Admit
    count: int


@dataclass(frozen=True)
class Dispatch:
    rounds: int


@dataclass(frozen=True)
class Tick:
    ms: int


@dataclass(frozen=True)
class Cancel:
    pick: int


@dataclass(frozen=True)
class Complete:
    pick: int
    input_tokens: int
    output_tokens: int


admits = st.builds(
    Admit,
    st.sampled_from(TENANTS),
    st.sampled_from(PRIORITIES),
    st.integers(0, 40),
    st.integers(0, 30),
    st.integers(0, 30),
    st.sampled_from([0, 0, 50, 200]),
)
operations = st.lists(
    st.one_of(
        admits,
        st.builds(Burst, admits, st.integers(2, 6)),
        st.builds(Dispatch, st.integers(1, 3)),
        st.builds(Tick, st.integers(1, 120)),
        st.builds(Cancel, st.integers(0, 200)),
        st.builds(Complete, st.integers(0, 200), st.integers(0, 60), st.integers(0, 60)),
    ),
    min_size=4,
    max_size=60,
)


def configs() -> st.SearchStrategy[FlowControlConfig]:
    band = st.fixed_dictionaries(
        {
            "maxBytes": st.sampled_from([0, 60, 200]),
            "maxRequests": st.sampled_from([0, 3, 8]),
            "fairnessPolicy": st.sampled_from(FAIRNESS),
        }
    )
    return st.builds(
        lambda default, top, pool_bytes, pool_requests: FlowControlConfig.model_validate(
            {
                "maxBytes": pool_bytes,
                "maxRequests": pool_requests,
                "defaultPriorityBand": default,
                "priorityBands": [{"priority": 3, **top}],
            }
        ),
        band,
        band,
        st.sampled_from([0, 100, 300]),
        st.sampled_from([0, 6, 12]),
    )


def check_capacity(model: FlowModel) -> None:
    state, config = model.state, model.config
    queued = [r for r in state.requests.values() if r.state == "queued"]
    assert state.pool.requests == len(queued)
    assert state.pool.bytes == sum(r.ticket.byte_size for r in queued)
    if config.max_requests:
        assert state.pool.requests <= config.max_requests
    if config.max_bytes:
        assert state.pool.bytes <= config.max_bytes
    for priority in PRIORITIES:
        band = [r for r in queued if r.ticket.flow.priority == priority]
        totals = state.bands.get(priority)
        assert (totals.requests if totals else 0) == len(band)
        assert (totals.bytes if totals else 0) == sum(r.ticket.byte_size for r in band)
        limits = model.bands.band(priority)
        assert len(band) <= limits.max_requests
        assert sum(r.ticket.byte_size for r in band) <= limits.max_bytes


def check_ttl(model: FlowModel) -> None:
    """Nothing waits past its TTL (time moves only with the workers' sweeps)."""
    for request in model.state.requests.values():
        if request.state == "queued":
            assert request.ticket.expires_ms == 0 or request.ticket.expires_ms > model.now_ms


def check_dispatch_order(model: FlowModel) -> None:
    """Strict priority at each dispatch; FCFS within each flow."""
    order = list(model.admitted)
    for dispatch in model.dispatches:
        assert dispatch.pool_top_before == dispatch.flow.priority
    served: dict[FlowKey, list[str]] = {}
    for dispatch in model.dispatches:
        served.setdefault(dispatch.flow, []).append(dispatch.request_id)
    for ids in served.values():
        assert ids == sorted(ids, key=order.index)


def apply(model: FlowModel, op: object, step: int) -> None:
    ids = list(model.admitted)
    if isinstance(op, Burst | Admit):
        admit, count = (op.admit, op.count) if isinstance(op, Burst) else (op, 1)
        for index in range(count):
            model.admit(
                f"r{step}.{index}",
                FlowKey(admit.tenant, admit.priority),
                byte_size=admit.byte_size,
                input_tokens=admit.input_tokens,
                output_tokens=admit.output_tokens,
                ttl_ms=admit.ttl_ms,
            )
    elif isinstance(op, Dispatch):
        for _ in range(op.rounds):
            model.dispatch_round()
    elif isinstance(op, Tick):
        model.tick(op.ms)
    elif isinstance(op, Cancel) and ids:
        model.state.cancel(ids[op.pick % len(ids)], now_ms=model.now_ms)
    elif isinstance(op, Complete) and ids:
        model.state.complete(
            ids[op.pick % len(ids)],
            input_tokens=op.input_tokens,
            output_tokens=op.output_tokens,
            now_ms=model.now_ms,
        )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs(), shards=st.sampled_from([1, 2, 3]), ops=operations)
def test_limits_priority_fcfs_and_exactly_one_outcome(
    config: FlowControlConfig, shards: int, ops: list[object]
) -> None:
    model = FlowModel(config, shards=shards)
    for step, op in enumerate(ops):
        apply(model, op, step)
        check_capacity(model)
        check_ttl(model)
        check_dispatch_order(model)
    model.drain()
    check_dispatch_order(model)
    assert not model.queued_ids()
    outcomes = model.outcomes()
    assert set(outcomes) == set(model.admitted)
    assert all(len(seen) == 1 for seen in outcomes.values()), outcomes
    dispatched = Counter(d.request_id for d in model.dispatches)
    assert all(count == 1 for count in dispatched.values())
    for rid, ticket in model.admitted.items():
        again = model.state.admit(
            ticket, model.bands.limits(ticket.flow.priority), shards=shards, now_ms=model.now_ms
        )
        assert again.status is AdmitStatus.EXISTING
        assert again.finished is not None and again.finished.outcome == outcomes[rid][0]
    assert model.outcomes() == outcomes  # admitting again decided nothing new


@settings(max_examples=100, deadline=None)
@given(arrivals=st.lists(st.sampled_from(TENANTS), min_size=1, max_size=40))
def test_round_robin_serves_backlogged_flows_in_turn(arrivals: list[str]) -> None:
    """Flows backlogged from the start: at every point of the dispatch sequence, flows
    still backlogged have been served within one request of each other."""
    config = FlowControlConfig.model_validate(
        {"defaultPriorityBand": {"fairnessPolicy": "round-robin"}}
    )
    model = FlowModel(config)
    for index, tenant in enumerate(arrivals):
        model.admit(f"r{index}", FlowKey(tenant, 0))
    remaining = Counter(arrivals)
    served: Counter[str] = Counter()
    while model.dispatch_once(0):
        tenant = model.dispatches[-1].flow.fairness_id
        served[tenant] += 1
        remaining[tenant] -= 1
        backlogged = [t for t in remaining if remaining[t] > 0]
        counts = [served[t] for t in backlogged]
        if counts:
            assert max(counts) - min(counts) <= 1, (served, remaining)
    assert served == Counter(arrivals)


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(TENANTS), st.integers(0, 50), st.integers(0, 50)),
            st.just("dispatch"),
        ),
        max_size=80,
    ),
    weights=st.sampled_from([(1.0, 2.0), (1.0, 1.0), (0.5, 4.0)]),
)
def test_virtual_token_fairness_keeps_backlogged_counters_within_one_request(
    steps: list[object], weights: tuple[float, float]
) -> None:
    """VTC serves the smallest counter and lifts returning flows: at every dispatch the
    counters of backlogged flows differ by at most the largest single charge."""
    w_in, w_out = weights
    config = FlowControlConfig.model_validate(
        {
            "defaultPriorityBand": {
                "fairnessPolicy": "virtual-token-fairness",
                "fairnessParameters": {"inputTokenWeight": w_in, "outputTokenWeight": w_out},
            }
        }
    )
    model = FlowModel(config)
    largest = w_in * 50 + w_out * 50
    for index, step in enumerate(steps):
        if step == "dispatch":
            model.dispatch_once(0)
        else:
            assert isinstance(step, tuple)
            tenant, tokens_in, tokens_out = step
            model.admit(
                f"r{index}", FlowKey(tenant, 0), input_tokens=tokens_in, output_tokens=tokens_out
            )
        backlog = model.state.backlog.get(0, {})
        if backlog:
            assert max(backlog.values()) - min(backlog.values()) <= largest + 1e-9
    for dispatch in model.dispatches:
        chosen = dispatch.counters_before[dispatch.flow.fairness_id]
        assert chosen == min(dispatch.counters_before.values())


def test_virtual_token_fairness_splits_service_by_tokens_not_requests() -> None:
    """A tenant sending big requests gets fewer of them served than one sending small
    ones, so that both get about the same weighted tokens."""
    config = FlowControlConfig.model_validate(
        {"defaultPriorityBand": {"fairnessPolicy": "virtual-token-fairness"}}
    )
    model = FlowModel(config)
    for index in range(40):
        model.admit(f"big{index}", FlowKey("big", 0), input_tokens=90, output_tokens=5)
        model.admit(f"small{index}", FlowKey("small", 0), input_tokens=9, output_tokens=0)
    for _ in range(30):
        model.dispatch_once(0)
    served = Counter(d.flow.fairness_id for d in model.dispatches)
    tokens = {
        tenant: sum(
            model.admitted[d.request_id].input_tokens
            + 2 * model.admitted[d.request_id].output_tokens
            for d in model.dispatches
            if d.flow.fairness_id == tenant
        )
        for tenant in ("big", "small")
    }
    assert served["small"] > 3 * served["big"]
    assert abs(tokens["big"] - tokens["small"]) <= 100  # one big request's charge


def test_completion_usage_corrects_the_counter() -> None:
    config = FlowControlConfig.model_validate(
        {"defaultPriorityBand": {"fairnessPolicy": "virtual-token-fairness"}}
    )
    model = FlowModel(config)
    model.admit("x", FlowKey("a", 0), input_tokens=10, output_tokens=10)
    model.admit("y", FlowKey("a", 0))
    model.dispatch_once(0)
    flow = model.state.flows[FlowKey("a", 0)]
    assert flow.counter == 30.0  # 1 x 10 + 2 x 10, the estimate
    assert model.state.complete("x", input_tokens=10, output_tokens=100, now_ms=model.now_ms)
    assert flow.counter == 210.0  # corrected to the usage
    assert model.state.backlog[0]["a"] == 210.0  # and the backlog order follows
    assert not model.state.complete("x", input_tokens=10, output_tokens=100, now_ms=model.now_ms)
    assert flow.counter == 210.0


def test_outcome_of_a_displaced_request_is_rejected_capacity() -> None:
    config = FlowControlConfig.model_validate({"maxRequests": 2})
    model = FlowModel(config)
    model.admit("low1", FlowKey("a", -1))
    model.admit("low2", FlowKey("a", -1))
    assert model.admit("high", FlowKey("b", 5)) is AdmitStatus.QUEUED
    assert model.outcomes() == {"low2": [Outcome.REJECTED_CAPACITY]}  # the newest goes
    assert model.admit("same", FlowKey("c", -1)) is AdmitStatus.REJECTED
