"""The scheduler: the profile handler chooses profiles, they run, it picks the primary."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from gie.view import EndpointState
from gie_picker.scheduling.contracts import (
    ProfileHandler,
    ProfileRunResult,
    SchedulingRequest,
    SchedulingResult,
)
from gie_picker.scheduling.errors import NoEndpointError, SchedulingError
from gie_picker.scheduling.metrics import (
    PROCESS_PROFILES_RESULTS,
    PROFILE_PICKER,
    SchedulerMetrics,
)
from gie_picker.scheduling.profile import SchedulerProfile

MAX_PROFILE_ROUNDS = 16


class Scheduler:
    """Schedules one request over candidate endpoints (see ``schedule``).

    Holds no per-request state; MUST be called from one event loop (plugins
    are not thread-safe).
    """

    def __init__(
        self,
        *,
        handler: ProfileHandler,
        profiles: Mapping[str, SchedulerProfile],
        metrics: SchedulerMetrics,
    ) -> None:
        self.handler = handler
        self.profiles = dict(profiles)
        self._metrics = metrics
        self._pick_timer = metrics.for_plugin(PROFILE_PICKER, handler)
        self._process_timer = metrics.for_plugin(PROCESS_PROFILES_RESULTS, handler)

    def schedule(
        self, request: SchedulingRequest, candidates: Sequence[EndpointState]
    ) -> SchedulingResult:
        """Endpoints for ``request``, primary first.

        Raises NoEndpointError when the primary profile's filters leave nothing
        (or there are no candidates), SchedulingError when the handler fails.
        """
        started = time.perf_counter()
        try:
            return self._schedule(request, candidates)
        finally:
            self._metrics.e2e.observe(time.perf_counter() - started)

    def _schedule(
        self, request: SchedulingRequest, candidates: Sequence[EndpointState]
    ) -> SchedulingResult:
        if not candidates:
            raise NoEndpointError("no candidate endpoint")
        results, failures = self._run_profiles(request, candidates)
        if not results:
            raise SchedulingError(f"profile handler {self.handler.name!r} chose no profile")
        started = time.perf_counter()
        primary = self.handler.process_results(request, results)
        self._process_timer.observe(time.perf_counter() - started)
        chosen = results.get(primary)
        if chosen is None or not chosen.endpoints:
            raise failures.get(primary) or NoEndpointError(f"profile {primary!r} chose nothing")
        return SchedulingResult(
            endpoints=tuple(state.address for state in chosen.endpoints),
            primary_profile=primary,
            profile_results=results,
        )

    def _run_profiles(
        self, request: SchedulingRequest, candidates: Sequence[EndpointState]
    ) -> tuple[dict[str, ProfileRunResult | None], dict[str, NoEndpointError]]:
        results: dict[str, ProfileRunResult | None] = {}
        failures: dict[str, NoEndpointError] = {}
        for _ in range(MAX_PROFILE_ROUNDS):
            started = time.perf_counter()
            chosen = self.handler.pick_profiles(request, self.profiles, results)
            self._pick_timer.observe(time.perf_counter() - started)
            if not chosen:
                return results, failures
            for name, profile in chosen.items():
                try:
                    results[name] = profile.run(request, candidates)
                except NoEndpointError as exc:
                    results[name], failures[name] = None, exc
        raise SchedulingError(
            f"profile handler {self.handler.name!r} still chose profiles after "
            f"{MAX_PROFILE_ROUNDS} rounds"
        )
