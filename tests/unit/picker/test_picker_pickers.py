"""The pickers: which endpoints they return, how many, and how often."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from gie.events import Endpoint
from gie.view import EndpointState
from gie_picker.scheduling import ScoredEndpoint
from gie_picker.scheduling.pickers import MaxScorePicker, RandomPicker, WeightedRandomPicker


def scored(*scores: float) -> list[ScoredEndpoint]:
    return [
        ScoredEndpoint(EndpointState(Endpoint(address=f"10.0.0.{i + 1}:8000")), score)
        for i, score in enumerate(scores)
    ]


def addresses(result: tuple[EndpointState, ...]) -> list[str]:
    return [state.address for state in result]


@pytest.mark.parametrize(
    ("scores", "count", "expected"),
    [
        pytest.param([0.2, 0.9, 0.5], 1, ["10.0.0.2:8000"], id="highest"),
        pytest.param(
            [0.2, 0.9, 0.5], 2, ["10.0.0.2:8000", "10.0.0.3:8000"], id="primary-then-fallback"
        ),
        pytest.param(
            [0.2, 0.9], 5, ["10.0.0.2:8000", "10.0.0.1:8000"], id="fewer-candidates-than-asked"
        ),
    ],
)
def test_max_score_picker(scores: list[float], count: int, expected: list[str]) -> None:
    picker = MaxScorePicker(random.Random(1), max_num_of_endpoints=count)
    assert addresses(picker.pick(scored(*scores)).endpoints) == expected


def test_max_score_picker_spreads_ties_evenly() -> None:
    picker = MaxScorePicker(random.Random(7))
    candidates = scored(1.0, 1.0, 1.0, 0.1)
    wins = Counter(picker.pick(candidates).endpoints[0].address for _ in range(3000))
    assert set(wins) == {"10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000"}
    assert all(900 < n < 1100 for n in wins.values())


def test_max_score_picker_follows_new_scores_and_spreads_ties_of_a_kept_tuple() -> None:
    picker = MaxScorePicker(random.Random(11))
    kept = tuple(scored(1.0, 1.0, 0.2))  # a profile hands the same tuple back
    wins = Counter(picker.pick(kept).endpoints[0].address for _ in range(2000))
    assert set(wins) == {"10.0.0.1:8000", "10.0.0.2:8000"}
    assert all(850 < n < 1150 for n in wins.values())
    changed = tuple(scored(0.1, 0.1, 0.9))  # new scores: a new tuple
    assert addresses(picker.pick(changed).endpoints) == ["10.0.0.3:8000"]
    mutable = scored(0.9, 0.1)
    assert addresses(picker.pick(mutable).endpoints) == ["10.0.0.1:8000"]
    mutable[1] = ScoredEndpoint(mutable[1].endpoint, 2.0)  # a list may change in place
    assert addresses(picker.pick(mutable).endpoints) == ["10.0.0.2:8000"]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_random_picker_returns_distinct_endpoints(count: int) -> None:
    picker = RandomPicker(random.Random(3), max_num_of_endpoints=count)
    chosen = addresses(picker.pick(scored(0.0, 0.0, 0.0)).endpoints)
    assert len(chosen) == count == len(set(chosen))


def test_random_picker_ignores_scores() -> None:
    picker = RandomPicker(random.Random(5))
    wins = Counter(picker.pick(scored(1.0, 0.0)).endpoints[0].address for _ in range(2000))
    assert 900 < wins["10.0.0.2:8000"] < 1100


def test_weighted_random_picker_is_proportional_to_scores() -> None:
    picker = WeightedRandomPicker(random.Random(11))
    candidates = scored(1.0, 2.0, 3.0, 0.0)
    draws = 12000
    wins = Counter(picker.pick(candidates).endpoints[0].address for _ in range(draws))
    for address, share in [("10.0.0.1:8000", 1 / 6), ("10.0.0.2:8000", 2 / 6)]:
        assert abs(wins[address] / draws - share) < 0.02
    assert abs(wins["10.0.0.3:8000"] / draws - 3 / 6) < 0.02
    assert wins["10.0.0.4:8000"] == 0


def test_weighted_random_picker_with_all_zero_scores_is_uniform() -> None:
    picker = WeightedRandomPicker(random.Random(13))
    wins = Counter(picker.pick(scored(0.0, 0.0)).endpoints[0].address for _ in range(2000))
    assert 900 < wins["10.0.0.1:8000"] < 1100


def test_weighted_random_picker_puts_zero_scores_last() -> None:
    picker = WeightedRandomPicker(random.Random(17), max_num_of_endpoints=3)
    for _ in range(50):
        chosen = addresses(picker.pick(scored(0.0, 0.5, 0.0)).endpoints)
        assert chosen[0] == "10.0.0.2:8000"
        assert sorted(chosen[1:]) == ["10.0.0.1:8000", "10.0.0.3:8000"]
