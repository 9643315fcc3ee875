"""Errors of the Kubernetes source.

::

    KubeSourceError
    ├── InvalidObject     an object that cannot be turned into facts (skipped, counted)
    ├── KubeConfigError   no usable kubeconfig or in-cluster configuration
    └── WatchFailed       a list or watch request failed (retried with backoff)
        └── Expired       the held resourceVersion cannot be resumed from: relist
                          (410 Gone, or the API serving the kind changed)
"""

from __future__ import annotations


class KubeSourceError(Exception):
    """Base of the Kubernetes source's errors."""


class InvalidObject(KubeSourceError):
    """An object whose content is not usable; the message names the field."""


class KubeConfigError(KubeSourceError):
    """The Kubernetes client cannot be configured; the message says from where."""


class WatchFailed(KubeSourceError):
    """A list or watch request failed; ``reason`` is a short label for metrics."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class Expired(WatchFailed):
    """The resourceVersion held cannot be resumed from: 410 Gone (``expired``), or
    the API that serves the kind changed since the list (``api-changed``)."""

    def __init__(self, message: str, *, reason: str = "expired") -> None:
        super().__init__(message, reason=reason)
