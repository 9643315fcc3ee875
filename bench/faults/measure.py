"""One fault's numbers, from the load's outcomes and the view samples.

* ``sent``: requests in flight at the fault plus those started after it (until the load
  stopped); ``failed`` of them, by status (``failed_by_status``);
* ``failed_in_flight``: failed requests sent before the fault and unanswered at it (they
  may have been on the killed process); ``failed_new``: failed requests started after it;
* ``slow``: answered, but after ``slow_s`` (a stalled server's requests);
* ``recovery_s``: from the fault to the start of the first ``recovery_window_s`` window
  in which no request failed (none ended failed, none started in it failed) and one
  view sample found the pickers in step (:func:`~bench.faults.views.agreeing_at`: each
  moving, all within ``max_gap`` state events); None if no such window came before the
  load stopped;
* ``diverged_positions``: state positions at which two views had different digests
  (0 unless replicas folded the same events differently);
* ``digests_equal`` and ``events_lost``: after the load, whether every picker holds the
  same view digest, and how many stream sequences replicas stayed behind the furthest
  one, summed over replicas and followings (0: every replica applied the same events).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench.faults.load import Outcome
from bench.faults.views import ViewSample, agreeing_at, diverged_positions, positions_behind

__all__ = ["fault_result", "recovery_s"]

_STEP_S = 0.05


def recovery_s(
    outcomes: Sequence[Outcome],
    samples: Sequence[ViewSample],
    *,
    fault_at: float,
    load_end: float,
    window_s: float,
    max_gap: int,
) -> float | None:
    failures = [o for o in outcomes if o.failed and (o.done_at or load_end) >= fault_at]
    equal_at = [at for at in agreeing_at(samples, max_gap=max_gap) if at >= fault_at]
    start = fault_at
    while start + window_s <= load_end:
        end = start + window_s
        quiet = not any(
            start <= o.sent_at < end or start <= (o.done_at or load_end) < end for o in failures
        )
        if quiet and any(start <= at < end for at in equal_at):
            return round(start - fault_at, 2)
        start += _STEP_S
    return None


def fault_result(
    outcomes: Sequence[Outcome],
    samples: Sequence[ViewSample],
    settled: ViewSample,
    *,
    fault_at: float,
    load_end: float,
    window_s: float,
    slow_s: float,
    max_gap: int,
) -> dict[str, Any]:
    in_flight = [o for o in outcomes if o.sent_at < fault_at and (o.done_at or load_end) > fault_at]
    new = [o for o in outcomes if o.sent_at >= fault_at]
    before = [o for o in outcomes if (o.done_at or load_end) <= fault_at]
    failed_in_flight = [o for o in in_flight if o.failed]
    failed_new = [o for o in new if o.failed]
    by_status = Counter(o.status or "none" for o in (*failed_in_flight, *failed_new))
    slow = [
        o
        for o in (*in_flight, *new)
        if not o.failed and o.done_at is not None and o.done_at - o.sent_at > slow_s
    ]
    return {
        "sent": len(in_flight) + len(new),
        "failed": len(failed_in_flight) + len(failed_new),
        "failed_in_flight": len(failed_in_flight),
        "failed_new": len(failed_new),
        "failed_by_status": dict(sorted(by_status.items())),
        "failed_before": sum(1 for o in before if o.failed),
        "slow": len(slow),
        "recovery_s": recovery_s(
            outcomes,
            samples,
            fault_at=fault_at,
            load_end=load_end,
            window_s=window_s,
            max_gap=max_gap,
        ),
        "digests_equal": settled.equal,
        "events_lost": positions_behind(settled),
        "diverged_positions": diverged_positions([*samples, settled]),
        "failure_examples": [
            {"status": status, "detail": detail, "count": count}
            for (status, detail), count in Counter(
                (o.status or "none", o.detail[:200]) for o in (*failed_in_flight, *failed_new)
            ).most_common(3)
        ],
    }
