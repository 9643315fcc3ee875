"""Liveness and readiness of a service, as named checks."""

from __future__ import annotations

from collections.abc import Callable


class Health:
    """Readiness is the conjunction of named checks; each says why it fails.

    A check returns ``None`` when fine, or a short reason. Checks MUST be cheap
    and non-blocking: they run on every probe, on the service's event loop (so they
    may read loop-owned state).
    """

    def __init__(self) -> None:
        self._checks: dict[str, Callable[[], str | None]] = {}
        self.alive = True

    def add_check(self, name: str, check: Callable[[], str | None]) -> None:
        if name in self._checks:
            raise ValueError(f"readiness check {name!r} already registered")
        self._checks[name] = check

    def failing(self) -> dict[str, str]:
        """Checks that fail now, with their reasons."""
        reasons = {name: check() for name, check in self._checks.items()}
        return {name: reason for name, reason in reasons.items() if reason is not None}

    @property
    def ready(self) -> bool:
        return self.alive and not self.failing()
