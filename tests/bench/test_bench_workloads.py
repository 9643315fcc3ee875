"""Workloads: deterministic from the seed, and shaped as each scenario promises."""

from __future__ import annotations

import statistics

import pytest

from bench.workloads import CHAT, COMPLETIONS, SCENARIOS, Workload
from bench.workloads.kv_pressure import KvPressure
from bench.workloads.long_prompt import LongPrompt
from bench.workloads.lora_mix import LoraMix
from bench.workloads.mixed import Mixed
from bench.workloads.multi_turn_chat import MultiTurnChat
from bench.workloads.shared_prefix import SharedPrefix


def _bodies(workload: Workload) -> list[object]:
    return [(r.path, dict(r.body), r.group, r.after) for r in workload.requests]


@pytest.mark.parametrize("name", list(SCENARIOS))
@pytest.mark.parametrize("size", ["quick", "full"])
def test_same_seed_same_requests_other_seed_other_text(name: str, size: str) -> None:
    generator = getattr(SCENARIOS[name], size)
    first = generator.generate(seed=7, model="m")
    assert _bodies(first) == _bodies(generator.generate(seed=7, model="m"))
    assert _bodies(first) != _bodies(generator.generate(seed=8, model="m"))
    assert [r.index for r in first.requests] == list(range(len(first)))
    for request in first.requests:
        assert request.body["stream"] is True
        assert request.body["stream_options"] == {"include_usage": True}
        assert request.body["max_tokens"] >= 1
        assert request.after is None or request.after < request.index


def test_shared_prefix_groups_share_exactly_their_system_prompt() -> None:
    spec = SharedPrefix(groups=3, prompts_per_group=4, system_prompt_tokens=100)
    workload = spec.generate(seed=1, model="m")
    assert len(workload) == 12
    by_group: dict[str, list[str]] = {}
    for request in workload.requests:
        assert request.path == COMPLETIONS
        by_group.setdefault(request.group, []).append(request.body["prompt"])
    assert sorted(len(prompts) for prompts in by_group.values()) == [4, 4, 4]
    systems = set()
    for prompts in by_group.values():
        heads = {prompt[:400] for prompt in prompts}
        assert len(heads) == 1  # 100 tokens = 400 characters, shared
        assert len(set(prompts)) == 4  # questions differ
        systems |= heads
    assert len(systems) == 3
    groups_in_order = [r.group for r in workload.requests]
    assert groups_in_order != sorted(groups_in_order)  # shuffled across groups


def test_multi_turn_chat_turns_extend_the_conversation_and_wait_for_each_other() -> None:
    workload = MultiTurnChat(sessions=3, turns=4).generate(seed=2, model="m")
    assert len(workload) == 12
    last: dict[str, int] = {}
    for request in workload.requests:
        assert request.path == CHAT
        messages = request.body["messages"]
        previous = last.get(request.group)
        assert request.after == previous
        if previous is None:
            assert [m["role"] for m in messages] == ["system", "user"]
        else:
            before = workload.requests[previous].body["messages"]
            assert messages[: len(before)] == before
            assert [m["role"] for m in messages[len(before) :]] == ["assistant", "user"]
        last[request.group] = request.index


def test_long_prompt_bodies_are_about_200_kb() -> None:
    workload = LongPrompt(documents=2, questions_per_document=2).generate(seed=3, model="m")
    sizes = [len(r.body["prompt"]) for r in workload.requests]
    assert all(200_000 <= size <= 201_000 for size in sizes)
    assert len({r.body["prompt"][:200_000] for r in workload.requests}) == 2


def test_mixed_lengths_look_like_sharegpt() -> None:
    workload = Mixed(requests=400).generate(seed=4, model="m")
    prompts = [len(r.body["messages"][0]["content"]) / 4 for r in workload.requests]
    outputs = [r.body["max_tokens"] for r in workload.requests]
    assert 200 < statistics.fmean(prompts) < 400
    assert 150 < statistics.fmean(outputs) < 250
    assert max(prompts) > 4 * statistics.median(prompts)  # a long tail


def test_lora_mix_names_adapters_as_models_most_popular_first() -> None:
    spec = LoraMix(adapters=3, requests=300)
    workload = spec.generate(seed=5, model="base")
    assert workload.models == ("base-lora-0", "base-lora-1", "base-lora-2")
    counts = [sum(r.body["model"] == name for r in workload.requests) for name in workload.models]
    assert counts[0] > counts[1] > counts[2] > 0


def test_kv_pressure_second_client_shares_the_groups_prefixes_and_adds_one_offs() -> None:
    spec = KvPressure(
        groups=3,
        prompts_per_group=2,
        system_prompt_tokens=100,
        question_tokens=8,
        side_per_group=2,
        side_one_off=4,
    )
    workload = spec.generate(seed=3, model="m")
    assert len(workload) == 6
    assert all(r.server is None for r in workload.requests)
    prefixes = {r.group: str(r.body["prompt"])[:400] for r in workload.requests}
    assert len(workload.side) == 3 * 2 + 4
    assert [r.index for r in workload.side] == list(range(10))
    for request in workload.side:
        prompt = str(request.body["prompt"])
        if request.group.startswith("side-group-"):
            group = int(request.group.rsplit("-", 1)[1])
            assert prompt.startswith(prefixes[f"group-{group}"] + "\n\n")
            assert request.server == group  # the second client's own placement
        else:
            assert request.group.startswith("side-one-off-")
            assert not any(prompt.startswith(prefix) for prefix in prefixes.values())
            assert len(prompt) == (100 + 8) * 4
    servers = sorted(r.server for r in workload.side if r.group.startswith("side-one-off-"))
    assert servers == [0, 1, 2, 3]  # spread over the servers in turn
