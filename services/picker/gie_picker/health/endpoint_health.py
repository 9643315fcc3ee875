"""Which endpoints the picker leaves out of scheduling because they failed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from gie.view import EndpointState
from gie_picker.health.metrics import HealthMetrics

_log = structlog.get_logger("gie.picker")


class FailureReport(Protocol):
    """What a completion record says about the endpoints that handled a request."""

    @property
    def served(self) -> str: ...

    @property
    def status(self) -> int: ...

    @property
    def failure(self) -> str | None: ...

    @property
    def failed_first(self) -> tuple[str, ...]: ...


class EndpointHealth:
    """Ejections from completion records and the scrape judgement; see the package.

    ``monotonic`` times ejections; ``usable`` takes the wall-clock ``now`` that
    scrape times are compared with. ``base_ejection_s`` 0 turns ejections off,
    ``unreachable_after_s`` 0 the scrape judgement.
    """

    def __init__(
        self,
        *,
        metrics: HealthMetrics,
        monotonic: Callable[[], float],
        base_ejection_s: float,
        max_ejection_s: float,
        unreachable_after_s: float,
    ) -> None:
        if base_ejection_s < 0 or max_ejection_s < base_ejection_s or unreachable_after_s < 0:
            raise ValueError(
                f"ejection times {base_ejection_s}/{max_ejection_s} s or unreachable "
                f"threshold {unreachable_after_s} s out of range"
            )
        self._metrics = metrics
        self._monotonic = monotonic
        self._base_s = base_ejection_s
        self._max_s = max_ejection_s
        self._unreachable_after = timedelta(seconds=unreachable_after_s)
        self._ejected_until: dict[str, float] = {}  # address -> monotonic end
        self._ejections: dict[str, int] = {}  # address -> ejections in a row
        self._unreachable: set[str] = set()  # judged by scrapes at the last decision

    # -------------------------------------------------------------- completion records
    def observe(self, report: FailureReport) -> None:
        """Learn from one completion record."""
        for address in report.failed_first:
            self.failed(address, "retried")
        if report.failure is not None:
            self.failed(report.served, report.failure)
        elif 0 < report.status < 500:
            self.succeeded(report.served)

    def failed(self, address: str, reason: str) -> None:
        """``address`` failed a request: eject it, unless it is ejected already."""
        if not self._base_s:
            return
        now = self._monotonic()
        if self._ejected_until.get(address, 0.0) > now:
            return  # requests sent before the ejection fail too: one ejection for all
        count = self._ejections.get(address, 0) + 1
        self._ejections[address] = count
        duration = min(self._base_s * 2 ** (count - 1), self._max_s)
        self._ejected_until[address] = now + duration
        self._metrics.by_reason[reason].inc()
        _log.warning(
            "endpoint ejected", endpoint=address, reason=reason, for_s=duration, in_a_row=count
        )

    def succeeded(self, address: str) -> None:
        """``address`` served a request: a later ejection starts from the base time."""
        if address in self._ejections and address not in self._ejected_until:
            del self._ejections[address]

    # -------------------------------------------------------------- routing
    def usable(self, candidates: list[EndpointState], now: datetime) -> list[EndpointState]:
        """``candidates`` without the failed ones (all of them when every one failed)."""
        ejected = self._expire() if self._ejected_until else ()
        cutoff = now - self._unreachable_after if self._unreachable_after else None
        unreachable = (
            {c.address for c in candidates if c.scraped_at is not None and c.scraped_at < cutoff}
            if cutoff is not None
            else set()
        )
        if unreachable != self._unreachable:
            self._scrape_changes(unreachable, candidates, now)
        if not ejected and not unreachable:
            self._metrics.left_out.set(0)
            return candidates
        kept = [c for c in candidates if c.address not in ejected and c.address not in unreachable]
        self._metrics.left_out.set(len(candidates) - len(kept))
        if not kept:
            self._metrics.all_left_out.inc()
            return candidates
        return kept

    def _expire(self) -> dict[str, float]:
        now = self._monotonic()
        for address in [a for a, until in self._ejected_until.items() if until <= now]:
            del self._ejected_until[address]
            self._metrics.returns.inc()
            _log.info("endpoint ejection over", endpoint=address)
        return self._ejected_until

    def _scrape_changes(
        self, unreachable: set[str], candidates: Sequence[EndpointState], now: datetime
    ) -> None:
        ages = {c.address: c.scraped_at for c in candidates}
        for address in unreachable - self._unreachable:
            scraped_at = ages[address]
            age = (now - scraped_at).total_seconds() if scraped_at is not None else None
            self._metrics.by_reason["scrape"].inc()
            _log.warning("endpoint left out: no scrape", endpoint=address, last_scrape_age_s=age)
        for address in self._unreachable - unreachable:
            if address in ages:  # scraped again (not gone from the pool)
                self._metrics.returns.inc()
                _log.info("endpoint scraped again", endpoint=address)
        self._unreachable = unreachable
