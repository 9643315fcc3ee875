"""gie demo's verdict: every request served, and spread when there are several servers."""

from __future__ import annotations

import pytest

from gie_cli.demo import DemoResult, demo_succeeded


def _r(status: int | None, served_by: str | None) -> DemoResult:
    return DemoResult(index=0, prompt="p", status=status, served_by=served_by, elapsed_ms=1.0)


A, B = "127.0.0.1:40001", "127.0.0.1:40002"


@pytest.mark.parametrize(
    ("results", "sims", "expected"),
    [
        ([_r(200, A), _r(200, B)], 2, True),
        ([_r(200, A), _r(200, A)], 2, False),
        ([_r(200, A), _r(200, A)], 1, True),
        ([_r(200, A), _r(429, None)], 2, False),
        ([_r(200, A), _r(200, None)], 2, False),
        ([_r(200, A), _r(None, None)], 1, False),
        ([], 1, False),
    ],
    ids=["spread", "one-server-of-two", "single-sim", "rejected", "no-served-by", "error", "none"],
)
def test_demo_succeeded(results: list[DemoResult], sims: int, expected: bool) -> None:
    assert demo_succeeded(results, sims=sims) is expected
