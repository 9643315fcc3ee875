"""precise-prefix-cache-scorer over a precise index folded from real Kv* events."""

from __future__ import annotations

import random

import pytest

from gie.events import (
    Endpoint,
    KvBlocksRemoved,
    KvBlocksStored,
    KvCacheCleared,
    KvStateUnknown,
)
from gie.events.hashes import pack_hashes
from gie.prefix import PrefixKey, token_block_keys
from gie.tokenize import CharsTokenizer, ChatMessage, PromptInput
from gie.view import EndpointState, InFlightView, PoolView
from gie_picker.prefixcache import state as state_module
from gie_picker.prefixcache.state import PRECISE_FORGET_AFTER_S, PrefixCacheState
from gie_picker.scheduling.contracts import PluginContext, PreparedPrefix, SchedulingRequest
from gie_picker.scheduling.scorers import PrecisePrefixCacheParameters, PrecisePrefixCacheScorer

POOL = "unit/precise"
A, B = "10.0.0.1:8000", "10.0.0.2:8000"
PROMPT = "the shared system prompt " * 20  # 500 characters: 126 tokens, 7 blocks of 16
KEY = PrefixKey(b"precise scorer test secret......")
KEYS = token_block_keys(CharsTokenizer().encode(PromptInput(text=PROMPT)), 16, key=KEY)


def kv(kind: type, address: str, seq: int, epoch: str = "run-1", **values: object) -> object:
    return kind(source="c", pool=POOL, address=address, epoch=epoch, seq=seq, **values)


def stored(address: str, seq: int, keys: list[int], epoch: str = "run-1") -> object:
    return kv(KvBlocksStored, address, seq, epoch, block_size=16, block_keys=pack_hashes(keys))


def setup(
    **parameters: object,
) -> tuple[PrefixCacheState, PrecisePrefixCacheScorer, list[EndpointState]]:
    cache = PrefixCacheState(PoolView(POOL))
    context = PluginContext(
        inflight=InFlightView(POOL),
        rng=random.Random(0),
        prefix_cache=cache,
        precise_prefix=cache,
        prefix_key=KEY,
    )
    params = PrecisePrefixCacheParameters.model_validate(parameters)
    scorer = PrecisePrefixCacheScorer.create("p", params, context)
    return cache, scorer, [EndpointState(Endpoint(address=a)) for a in (A, B)]


def request(request_id: str = "r", prompt: PromptInput | None = None) -> SchedulingRequest:
    return SchedulingRequest(
        request_id=request_id,
        model="m",
        prompt=PROMPT,
        prompt_input=prompt or PromptInput(text=PROMPT),
    )


def test_scores_the_share_of_leading_blocks_each_endpoint_holds() -> None:
    cache, scorer, candidates = setup()
    assert len(KEYS) == 7
    for address in (A, B):
        cache.apply_kv(kv(KvCacheCleared, address, -1, reason="start"))  # type: ignore[arg-type]
    cache.apply_kv(stored(A, 0, KEYS))  # type: ignore[arg-type]
    cache.apply_kv(stored(B, 0, KEYS[:3] + KEYS[4:]))  # type: ignore[arg-type]  # a hole
    assert scorer.score(request(), candidates) == {A: 1.0, B: pytest.approx(3 / 7)}


def _event(kind: str, seq: int) -> object:
    if kind == "stored":
        return stored(A, seq, KEYS)
    if kind == "removed":
        return kv(KvBlocksRemoved, A, seq, block_keys=pack_hashes(KEYS[:1]))
    if kind == "unknown":
        return kv(KvStateUnknown, A, seq, reason="gap")
    if kind == "cleared":
        return kv(KvCacheCleared, A, seq, reason="all_blocks_cleared")
    return kv(KvCacheCleared, A, seq, "run-2", reason="restart")


@pytest.mark.parametrize(
    ("events", "a_score"),
    [
        pytest.param([("stored", 0)], 1.0, id="stored"),
        pytest.param([("stored", 0), ("removed", 1)], 0.0, id="evicted"),
        pytest.param([("stored", 0), ("removed", 1), ("stored", 0)], 0.0, id="stale-replay"),
        pytest.param([("stored", 0), ("unknown", 1), ("stored", 2)], None, id="unknown"),
        pytest.param(
            [("stored", 0), ("unknown", 1), ("cleared", 2), ("stored", 3)], 1.0, id="reset"
        ),
        pytest.param([("stored", 0), ("restart", -1)], 0.0, id="restart"),
        pytest.param([("stored", 0), ("stored", 0)], 1.0, id="duplicate"),
    ],
)
def test_folding(events: list[tuple[str, int]], a_score: float | None) -> None:
    cache, scorer, candidates = setup()
    cache.apply_kv(kv(KvCacheCleared, A, -1, reason="start"))  # type: ignore[arg-type]
    for kind, seq in events:
        cache.apply_kv(_event(kind, seq))  # type: ignore[arg-type]
    scores = scorer.score(request(), candidates)
    if a_score is None:
        assert not cache.precise_known(A)
        assert A not in scores  # the approximate index (empty here) stands in
    else:
        assert scores[A] == a_score


def test_an_unknown_endpoint_gets_the_approximate_estimate() -> None:
    cache, scorer, candidates = setup()
    cache.apply_kv(kv(KvCacheCleared, B, -1, reason="start"))  # type: ignore[arg-type]
    scorer.score(request("r-1"), candidates)
    cache.routed("r-1", A)  # routed to A a moment ago: the approximate overlay has it
    assert scorer.score(request("r-2"), candidates) == {A: 1.0, B: 0.0}


def test_chat_prompts_are_keyed_as_the_simulator_tokenizes_them() -> None:
    cache, scorer, candidates = setup()
    messages = (ChatMessage("system", "be brief " * 40), ChatMessage("user", "hello"))
    ids = CharsTokenizer().encode_chat(messages)
    cache.apply_kv(kv(KvCacheCleared, A, -1, reason="start"))  # type: ignore[arg-type]
    cache.apply_kv(stored(A, 0, token_block_keys(ids, 16, key=KEY)))  # type: ignore[arg-type]
    chat = PromptInput(messages=messages)
    assert scorer.score(request(prompt=chat), candidates)[A] == 1.0


def _known_and_empty(cache: PrefixCacheState) -> None:
    for address in (A, B):
        cache.apply_kv(kv(KvCacheCleared, address, -1, reason="start"))  # type: ignore[arg-type]


def test_a_prompt_just_sent_counts_as_held_until_the_servers_events_can_say_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(state_module.time, "monotonic", lambda: clock[0])
    cache, scorer, candidates = setup()
    _known_and_empty(cache)
    assert scorer.score(request("r-1"), candidates) == {A: 0.0, B: 0.0}
    cache.routed("r-1", A)
    # A burst sharing the prompt follows it to A before A's events arrive.
    clock[0] += 1.9
    assert scorer.score(request("r-2"), candidates) == {A: 1.0, B: 0.0}
    cache.discard("r-2")
    # Past the window only the servers' events count: A never reported the blocks.
    clock[0] += 0.2
    assert scorer.score(request("r-3"), candidates) == {A: 0.0, B: 0.0}
    cache.discard("r-3")
    # The servers' events count as before, beside the decisions.
    cache.apply_kv(stored(B, 0, KEYS))  # type: ignore[arg-type]
    assert scorer.score(request("r-4"), candidates) == {A: 0.0, B: 1.0}


def test_a_shorter_shared_prefix_counts_for_its_share() -> None:
    cache, scorer, candidates = setup()
    _known_and_empty(cache)
    other = PROMPT[:256] + "a different question entirely " * 9
    first = SchedulingRequest(
        request_id="r-1", model="m", prompt=other, prompt_input=PromptInput(text=other)
    )
    scorer.score(first, candidates)
    cache.routed("r-1", B)
    scores = scorer.score(request("r-2"), candidates)
    assert scores[A] == 0.0
    assert scores[B] == pytest.approx(4 / 7)  # 256 of the prompt's 448 hashed characters


def test_without_a_window_only_the_servers_events_count() -> None:
    cache, scorer, candidates = setup(recentDecisionsWindowSeconds=0)
    _known_and_empty(cache)
    scorer.score(request("r-1"), candidates)
    cache.routed("r-1", A)
    assert scorer.score(request("r-2"), candidates) == {A: 0.0, B: 0.0}


def test_the_window_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="recentDecisionsWindowSeconds"):
        PrecisePrefixCacheParameters.model_validate({"recentDecisionsWindowSeconds": -1})


class FailingTokenizer(CharsTokenizer):
    """A tokenizer that fails as a chat template nested too deep does (RecursionError)."""

    def encode(self, prompt: PromptInput, *, max_tokens: int | None = None) -> list[int]:
        raise RecursionError("maximum recursion depth exceeded")


def test_a_tokenizer_that_fails_leaves_the_approximate_estimate_not_an_error() -> None:
    cache = PrefixCacheState(PoolView(POOL))
    context = PluginContext(
        inflight=InFlightView(POOL),
        rng=random.Random(0),
        prefix_cache=cache,
        precise_prefix=cache,
        prefix_key=KEY,
        tokenizer=FailingTokenizer(),
    )
    scorer = PrecisePrefixCacheScorer.create(
        "p", PrecisePrefixCacheParameters.model_validate({}), context
    )
    candidates = [EndpointState(Endpoint(address=a)) for a in (A, B)]
    for address in (A, B):
        cache.apply_kv(kv(KvCacheCleared, address, -1, reason="start"))  # type: ignore[arg-type]
    cache.apply_kv(stored(A, 0, KEYS))  # type: ignore[arg-type]
    scores = scorer.score(request(), candidates)  # no exception: the request is routed
    assert scores.get(A, 0.0) == 0.0  # the approximate index's estimate, not A's events


def test_only_the_latest_thousand_decisions_count_and_an_old_one_ends_cleanly() -> None:
    """The recent decisions are bounded: past 1,000 the oldest stop counting, unless a
    later decision sent the same blocks to the same endpoint."""
    cache = PrefixCacheState(PoolView(POOL))

    def route(request_id: str, hashes: tuple[int, ...], target: str) -> None:
        cache.prepare(request_id, PreparedPrefix(hashes, 16, False, 1000, matched={}))
        cache.routed(request_id, target)

    def share(hashes: tuple[int, ...]) -> dict[str, float]:
        cache.prepare("probe", PreparedPrefix(hashes, 16, False, 1000, matched={}))
        return cache.recent_share("probe", 60.0)

    first, again = (1, 2, 3), (7, 8, 9)
    route("first", first, A)
    route("again-1", again, A)
    for n in range(999):
        route(f"filler-{n}", (10_000 + n, 20_000 + n), B)
    route("again-2", again[:2], A)  # the same leading blocks to A, later
    assert share(first) == {}  # pushed out
    assert share(again) == {A: pytest.approx(2 / 3)}  # only the later decision's blocks
    assert share((10_998, 20_998)) == {B: 1.0}


def test_an_endpoint_out_of_the_pool_for_ten_minutes_loses_its_precise_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pods come and go: a removed endpoint's cache state must not stay in memory for
    ever. One back in the pool sooner (readiness lost for a while) keeps it, since its
    collector goes on with the same run."""
    clock = [1_000.0]
    monkeypatch.setattr(state_module.time, "monotonic", lambda: clock[0])
    cache = PrefixCacheState(PoolView(POOL))
    for address in (A, B):
        cache.apply_kv(kv(KvCacheCleared, address, -1, reason="start"))  # type: ignore[arg-type]
        cache.apply_kv(stored(address, 0, KEYS))  # type: ignore[arg-type]
    cache.forget_endpoint(A)
    cache.forget_endpoint(B)
    clock[0] += 300.0
    cache.endpoint_back(B)
    clock[0] += PRECISE_FORGET_AFTER_S
    cache.apply_kv(stored(B, 1, KEYS[:1]))  # type: ignore[arg-type]  # any KV event
    assert cache.precise.get(A) is None and not cache.precise_known(A)
    assert cache.precise_known(B) and cache.precise_match(KEYS, [B]) == {B: len(KEYS)}
