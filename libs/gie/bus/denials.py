"""What the NATS server refused this connection: bad credentials, or a publish or
subscription outside the identity's permissions (see :mod:`gie.security`).

The server reports a permissions violation asynchronously (``-ERR 'Permissions
Violation for Publish to "<subject>"'``) and keeps the connection; nats-py hands it to
the error callback, lower-cased; the subject is logged as published when this
connection published on it. :class:`Denials` turns each into a count
(``gie_bus_permission_denied_total{operation}``) and an error log line naming the
subject and the user, logged once per operation and subject (at most
``_LOGGED_SUBJECTS`` of them) so a service that keeps trying does not flood its log.
A confirmed publish that was refused also fails as :class:`~gie.bus.BusPublishError`
once its acknowledgement times out: the service carries on.
"""

from __future__ import annotations

import re

import structlog

from gie.bus.metrics import BusMetrics

_log = structlog.get_logger("gie.bus")
_VIOLATION = re.compile(r"permissions violation for (publish|subscription) to \"?([^\"']+)", re.I)
_LOGGED_SUBJECTS = 1024


def is_authorization_error(error: BaseException) -> bool:
    """Whether the server refused the connection's credentials."""
    text = str(error).lower()
    return "authorization violation" in text or type(error).__name__ == "AuthorizationError"


class Denials:
    """Counts and logs what the server refused."""

    def __init__(self, metrics: BusMetrics, *, user: str | None) -> None:
        self._metrics = metrics
        self._user = user
        self._logged: set[tuple[str, str]] = set()
        self.credentials_refused = False  # since the last successful connection
        self._subjects: dict[str, str] = {}  # lower-cased -> as published

    def seen(self, subject: str) -> None:
        """``subject`` is published on: nats-py reports refusals in lower case, and
        the log names the subject as it was published."""
        if len(self._subjects) >= _LOGGED_SUBJECTS * 10:
            self._subjects.clear()
        self._subjects[subject.lower()] = subject

    def connected(self) -> None:
        """A connection was made: a later refusal of the credentials is logged again."""
        self.credentials_refused = False

    def observe(self, error: BaseException) -> bool:
        """Record ``error`` when it is a permissions violation; False otherwise."""
        match = _VIOLATION.search(str(error))
        if match is None:
            return False
        operation = "publish" if match.group(1).lower() == "publish" else "subscribe"
        reported = match.group(2).strip()
        subject = self._subjects.get(reported, reported)
        self._metrics.permission_denied.labels(operation).inc()
        key = (operation, subject)
        if key not in self._logged and len(self._logged) < _LOGGED_SUBJECTS:
            self._logged.add(key)
            _log.error(
                "NATS refused: outside this identity's permissions",
                operation=operation,
                subject=subject,
                user=self._user,
            )
        return True

    def refused_credentials(self, error: BaseException, *, url: str) -> None:
        """The server refused the credentials at connection time: counted every time,
        logged once until a connection succeeds (nats-py retries every half second)."""
        self._metrics.auth_failures.inc()
        if self.credentials_refused:
            return
        self.credentials_refused = True
        _log.error(
            "NATS refused this service's credentials (user, password file)",
            url=url,
            user=self._user,
            error=str(error),
        )
