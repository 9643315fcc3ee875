"""The header-based testing filter and the single-profile handler."""

from __future__ import annotations

import pytest

from gie.events import Endpoint
from gie.view import EndpointState
from gie_picker.scheduling import (
    ProfileRunResult,
    SchedulingError,
    SchedulingRequest,
)
from gie_picker.scheduling.filters import HEADER, HeaderBasedTestingFilter
from gie_picker.scheduling.profiles import SingleProfileHandler

POOL = [
    "10.0.0.1:8000",
    "10.0.0.1:8001",
    "10.0.0.2:8000",
    "[fd00::1]:3000",
    "[fd00::2]:3000",
]


def candidates() -> list[EndpointState]:
    return [EndpointState(Endpoint(address=address)) for address in POOL]


def request(headers: dict[str, str]) -> SchedulingRequest:
    return SchedulingRequest(request_id="r1", model="m", headers=headers)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("10.0.0.2:8000", ["10.0.0.2:8000"], id="ip-port-exact"),
        pytest.param("10.0.0.1", ["10.0.0.1:8000", "10.0.0.1:8001"], id="bare-ip-every-port"),
        pytest.param(
            "10.0.0.2:8000, 10.0.0.1:8001", ["10.0.0.2:8000", "10.0.0.1:8001"], id="header-order"
        ),
        pytest.param("10.0.0.2:8000,10.0.0.2:8000", ["10.0.0.2:8000"], id="duplicates-once"),
        pytest.param("10.0.0.2:9999", [], id="wrong-port"),
        pytest.param("10.9.9.9", [], id="unknown-ip"),
        pytest.param("[fd00::1]:3000", ["[fd00::1]:3000"], id="ipv6-bracketed-port"),
        pytest.param("fd00::2", ["[fd00::2]:3000"], id="ipv6-bare"),
        pytest.param("", [], id="empty-header-leaves-none"),
    ],
)
def test_header_based_testing_filter(header: str, expected: list[str]) -> None:
    kept = HeaderBasedTestingFilter().filter(request({HEADER: header}), candidates())
    assert [state.address for state in kept] == expected


def test_header_based_testing_filter_without_header_leaves_none() -> None:
    assert HeaderBasedTestingFilter().filter(request({}), candidates()) == []


def test_header_name_is_case_insensitive() -> None:
    kept = HeaderBasedTestingFilter().filter(
        request({"Test-EPP-Endpoint-Selection": "10.0.0.2:8000"}), candidates()
    )
    assert [state.address for state in kept] == ["10.0.0.2:8000"]


class Profile:
    name = "only"

    def run(
        self, request: SchedulingRequest, candidates: object
    ) -> ProfileRunResult:  # pragma: no cover - never run here
        raise AssertionError


def test_single_profile_handler_runs_the_profile_once() -> None:
    handler = SingleProfileHandler()
    profiles = {"only": Profile()}
    assert handler.pick_profiles(request({}), profiles, {}) == profiles
    assert handler.pick_profiles(request({}), profiles, {"only": None}) == {}


def test_single_profile_handler_makes_its_profile_primary() -> None:
    result = ProfileRunResult(tuple(candidates()[:1]))
    assert SingleProfileHandler().process_results(request({}), {"only": result}) == "only"


def test_single_profile_handler_rejects_several_results() -> None:
    with pytest.raises(SchedulingError, match="expects one profile result, got 2"):
        SingleProfileHandler().process_results(request({}), {"a": None, "b": None})
