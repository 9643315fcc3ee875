"""Errors as the Kubernetes API server reports them: ``Status`` objects.

Every failed request gets a ``v1`` ``Status`` with the ``reason`` and ``code`` a real API
server gives, built by one of the constructors below (``not_found``, ``conflict``, ...).

Hierarchy::

    KubeError            any failure answered with a Status (carries it)
     └── InvalidError    422 Invalid whose details.causes name each field path
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "FieldError",
    "InvalidError",
    "KubeError",
    "ResourceRef",
    "already_exists",
    "bad_request",
    "conflict",
    "expired",
    "gone",
    "internal_error",
    "invalid",
    "method_not_allowed",
    "not_acceptable",
    "not_found",
    "status_object",
    "success_status",
    "timeout",
    "unsupported_media_type",
]


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """What a Status's details name: the resource (plural), its group, the object's name."""

    group: str
    resource: str
    name: str = ""

    @property
    def qualified(self) -> str:
        """``pods`` or ``inferencepools.inference.networking.k8s.io``."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        details["kind"] = self.resource
        return details


def status_object(
    *,
    code: int,
    reason: str,
    message: str,
    details: dict[str, Any] | None = None,
    success: bool = False,
) -> dict[str, Any]:
    """A ``v1`` Status (as JSON) with the fields a real server fills in."""
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if success else "Failure",
    }
    if message:
        status["message"] = message
    if reason:
        status["reason"] = reason
    if details:
        status["details"] = details
    status["code"] = code
    return status


def success_status(ref: ResourceRef, uid: str) -> dict[str, Any]:
    """What a delete of a kind that does not return the deleted object answers."""
    details = ref.details()
    details["uid"] = uid
    return status_object(code=200, reason="", message="", details=details, success=True)


class KubeError(Exception):
    """A request failed; ``status`` is the ``Status`` object to answer with."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.status = status
        super().__init__(status.get("message", status.get("reason", "")))

    @property
    def code(self) -> int:
        return int(self.status["code"])


@dataclass(frozen=True, slots=True)
class FieldError:
    """One cause of an Invalid error: ``field`` (``spec.ports[0].number``), the reason
    (``FieldValueInvalid``, ``FieldValueRequired``, ...) and the message body."""

    field: str
    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidError(KubeError):
    """422 Invalid: the object failed validation; ``errors`` are the causes."""

    def __init__(self, status: dict[str, Any], errors: list[FieldError]) -> None:
        super().__init__(status)
        self.errors = errors


def _error(code: int, reason: str, message: str, ref: ResourceRef | None = None) -> KubeError:
    details = ref.details() if ref is not None else None
    return KubeError(status_object(code=code, reason=reason, message=message, details=details))


def not_found(ref: ResourceRef) -> KubeError:
    return _error(404, "NotFound", f'{ref.qualified} "{ref.name}" not found', ref)


def already_exists(ref: ResourceRef) -> KubeError:
    return _error(409, "AlreadyExists", f'{ref.qualified} "{ref.name}" already exists', ref)


def conflict(ref: ResourceRef, why: str) -> KubeError:
    message = f'Operation cannot be fulfilled on {ref.qualified} "{ref.name}": {why}'
    return _error(409, "Conflict", message, ref)


def bad_request(message: str) -> KubeError:
    return _error(400, "BadRequest", message)


def method_not_allowed(message: str) -> KubeError:
    return _error(405, "MethodNotAllowed", message)


def not_acceptable(message: str) -> KubeError:
    return _error(406, "NotAcceptable", message)


def unsupported_media_type(message: str) -> KubeError:
    return _error(415, "UnsupportedMediaType", message)


def gone(message: str) -> KubeError:
    return _error(410, "Gone", message)


def expired(message: str) -> KubeError:
    return _error(410, "Expired", message)


def timeout(message: str) -> KubeError:
    return _error(504, "Timeout", message)


def internal_error(message: str) -> KubeError:
    return _error(500, "InternalError", message)


def invalid(kind: str, group: str, name: str, errors: list[FieldError]) -> InvalidError:
    """422 Invalid as the server words it: ``Pod "x" is invalid: [a: ..., b: ...]``."""
    qualified_kind = f"{kind}.{group}" if group else kind
    listed = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(map(str, errors)) + "]"
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [
        {"reason": error.reason, "message": error.message, "field": error.field} for error in errors
    ]
    status = status_object(
        code=422,
        reason="Invalid",
        message=f'{qualified_kind} "{name}" is invalid: {listed}',
        details=details,
    )
    return InvalidError(status, errors)
