"""Errors of the flow-controller.

FlowControllerError
├── ConfigFileError      GIE_CONFIG_FILE cannot be read or its flowControl /
│                        saturationDetector section is invalid
├── DuplicatePolicyError a policy type was registered twice (a start-up bug)
├── UnknownPolicyError   a band names a policy no registry entry implements
├── ShardLayoutError     the configured shardCount differs from the one queued work uses
├── DrainingError        this replica is shutting down; the caller should retry elsewhere
├── RequestLostError     a waiting request's state is gone from Redis (a restart lost it)
├── NoOutcomeError       a waiting request's TTL passed and its outcome could not be read
└── StoreError           the flow state (Redis) could not be read or changed
    ├── LayoutChangedError  the flow state has another shardCount than this replica
    └── LeaseLostError   this replica no longer owns the shard it was working on

A :class:`StoreError` on the Admit path becomes gRPC UNAVAILABLE (the picker retries the
same request id on another replica); in a shard worker it ends the pass, which is
retried on the next tick. :class:`RequestLostError` becomes DATA_LOSS and
:class:`NoOutcomeError` DEADLINE_EXCEEDED: neither is retried, the picker answers 503.
"""

from __future__ import annotations


class FlowControllerError(Exception):
    """Base of every error raised by the flow-controller."""


class ConfigFileError(FlowControllerError):
    """The EndpointPickerConfig file is missing, malformed or invalid."""


class DuplicatePolicyError(FlowControllerError):
    """A policy type name was registered twice."""


class UnknownPolicyError(FlowControllerError):
    """A configured policy has no implementation."""


class ShardLayoutError(FlowControllerError):
    """The shard count cannot change while requests are queued."""


class DrainingError(FlowControllerError):
    """The replica is shutting down and answers no more calls."""


class RequestLostError(FlowControllerError):
    """The flow state no longer knows a request that was queued (Redis restarted
    without it); it will never get an outcome."""


class NoOutcomeError(FlowControllerError):
    """A request's TTL passed (plus a grace) without an outcome the replica could read
    (Redis unreachable meanwhile)."""


class StoreError(FlowControllerError):
    """The flow state could not be read or changed."""


class LayoutChangedError(StoreError):
    """The flow state has another shard count than this replica: its admissions would go
    to shards no replica serves (a rolling update that changed shardCount)."""

    @classmethod
    def between(cls, current: int, mine: int) -> LayoutChangedError:
        return cls(
            f"the flow state is laid out in {current} shards and this replica in {mine}: "
            "restart it with the current shardCount"
        )


class LeaseLostError(StoreError):
    """The shard's lease belongs to another replica (or to none)."""
