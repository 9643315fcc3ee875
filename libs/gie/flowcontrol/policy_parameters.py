"""The built-in flow-control policies' names and parameter models.

They live here, beside the configuration, so that every reader of a config (the
picker's loader and the flow-controller) rejects an unknown policy or a wrong
parameter the same way. The flow-controller registers one implementation per name
(its policy registry checks it knows every name listed here).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

ROUND_ROBIN = "round-robin"
BEST_HEAD = "best-head"
VIRTUAL_TOKEN_FAIRNESS = "virtual-token-fairness"
FCFS = "fcfs"


class PolicyParameters(BaseModel):
    """Base of every policy's parameters: unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class NoParameters(PolicyParameters):
    """For policies that take no parameters."""


# A token's largest charge: counters stay finite (Redis refuses to add inf or nan).
MAX_TOKEN_WEIGHT = 1e6


class VirtualTokenFairnessParameters(PolicyParameters):
    """Weights of the virtual token counter: what one token costs a flow."""

    input_token_weight: float = Field(
        default=1.0,
        ge=0.0,
        le=MAX_TOKEN_WEIGHT,
        allow_inf_nan=False,
        alias="inputTokenWeight",
        description="Counter charge per input (prompt) token.",
    )
    output_token_weight: float = Field(
        default=2.0,
        ge=0.0,
        le=MAX_TOKEN_WEIGHT,
        allow_inf_nan=False,
        alias="outputTokenWeight",
        description="Counter charge per output (completion) token; output costs more to serve.",
    )


# Inter-flow (fairness) policies: which flow of a band is served next.
FAIRNESS_POLICY_PARAMETERS: dict[str, type[PolicyParameters]] = {
    ROUND_ROBIN: NoParameters,
    BEST_HEAD: NoParameters,
    VIRTUAL_TOKEN_FAIRNESS: VirtualTokenFairnessParameters,
}

# Intra-flow (ordering) policies: which request of a flow is served next.
ORDERING_POLICY_PARAMETERS: dict[str, type[PolicyParameters]] = {
    FCFS: NoParameters,
}
