"""The ``flowControl`` section of an EndpointPickerConfig.

Example (every field optional; the values shown are the defaults)::

    flowControl:
      shardCount: 4                # shards of queued work, spread over flow-controller replicas
      maxBytes: 0                  # pool-wide queued bytes; 0 = no pool-wide limit
      maxRequests: 0               # pool-wide queued requests; 0 = no pool-wide limit
      defaultRequestTTL: 60s       # how long a request may wait queued; "0s" = until its deadline
      objectiveRequestTTLs: {}     # InferenceObjective name -> TTL, overriding the default
      flowIdleTimeout: 5m          # a flow with nothing queued or in flight is collected after this
      defaultPriorityBand:         # template of every band not listed in priorityBands
        maxBytes: 1G               # queued bytes in the band (0 or absent = 1G)
        maxRequests: 5000          # queued requests in the band (0 or absent = 5000)
        fairnessPolicy: best-head  # round-robin | best-head | virtual-token-fairness
        fairnessParameters: {}     # virtual-token-fairness: inputTokenWeight (1),
                                   #   outputTokenWeight (2)
        orderingPolicy: fcfs
      priorityBands:               # bands with their own settings; absent fields come from
        - priority: 10             # defaultPriorityBand
          name: critical

Bands are created on demand for any priority (from ``defaultPriorityBand``) and served
strictly highest priority first. Parsing is strict: unknown fields, unknown policies,
parameters a policy does not take and values of the wrong type are errors naming the
field. Sizes accept Kubernetes quantities (``1Gi``, ``500M``); durations Go-style
strings (``200ms``, ``1m30s``) or seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from gie.config.durations import format_duration, validate_duration
from gie.flowcontrol.policy_parameters import (
    BEST_HEAD,
    FAIRNESS_POLICY_PARAMETERS,
    FCFS,
    ORDERING_POLICY_PARAMETERS,
    PolicyParameters,
    VirtualTokenFairnessParameters,
)
from gie.flowcontrol.quantity import parse_quantity

DEFAULT_BAND_MAX_BYTES = 1_000_000_000
DEFAULT_BAND_MAX_REQUESTS = 5000
DEFAULT_FAIRNESS_POLICY = BEST_HEAD
DEFAULT_ORDERING_POLICY = FCFS
DEFAULT_REQUEST_TTL_S = 60.0
DEFAULT_FLOW_IDLE_TIMEOUT_S = 300.0
DEFAULT_SHARD_COUNT = 4
MAX_SHARD_COUNT = 256


def _duration(value: object, info: ValidationInfo) -> float:
    return validate_duration(value, info, example="'30s' or '1m'")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)


class BandTemplate(_Section):
    """Settings of a priority band; absent fields are inherited (see module docstring)."""

    max_bytes: int | None = Field(default=None, alias="maxBytes")
    max_requests: int | None = Field(default=None, alias="maxRequests")
    fairness_policy: str | None = Field(default=None, alias="fairnessPolicy")
    fairness_parameters: dict[str, object] | None = Field(default=None, alias="fairnessParameters")
    ordering_policy: str | None = Field(default=None, alias="orderingPolicy")
    ordering_parameters: dict[str, object] | None = Field(default=None, alias="orderingParameters")

    @field_validator("max_bytes", "max_requests", mode="before")
    @classmethod
    def _quantity(cls, value: object) -> int | None:
        return None if value is None else parse_quantity(value)

    @field_validator("fairness_policy")
    @classmethod
    def _known_fairness(cls, value: str | None) -> str | None:
        if value is not None and value not in FAIRNESS_POLICY_PARAMETERS:
            known = ", ".join(sorted(FAIRNESS_POLICY_PARAMETERS))
            raise ValueError(f"unknown fairness policy {value!r}; expected one of: {known}")
        return value

    @field_validator("ordering_policy")
    @classmethod
    def _known_ordering(cls, value: str | None) -> str | None:
        if value is not None and value not in ORDERING_POLICY_PARAMETERS:
            known = ", ".join(sorted(ORDERING_POLICY_PARAMETERS))
            raise ValueError(f"unknown ordering policy {value!r}; expected one of: {known}")
        return value


class PriorityBandConfig(BandTemplate):
    """``priorityBands[]``: a band with its own settings."""

    priority: int
    name: str = Field(default="", max_length=63)


@dataclass(frozen=True, slots=True)
class BandSettings:
    """A band's effective settings, every default applied."""

    priority: int
    name: str
    max_bytes: int
    max_requests: int
    fairness_policy: str
    fairness_parameters: PolicyParameters
    ordering_policy: str
    ordering_parameters: PolicyParameters
    token_weights: VirtualTokenFairnessParameters


def _merge(priority: int, name: str, band: BandTemplate, template: BandTemplate) -> BandSettings:
    fairness = band.fairness_policy or template.fairness_policy or DEFAULT_FAIRNESS_POLICY
    ordering = band.ordering_policy or template.ordering_policy or DEFAULT_ORDERING_POLICY
    # Parameters belong to a policy: a band naming its own policy does not inherit the
    # template's parameters (they may be for another policy).
    fairness_raw = band.fairness_parameters
    if fairness_raw is None and band.fairness_policy is None:
        fairness_raw = template.fairness_parameters
    ordering_raw = band.ordering_parameters
    if ordering_raw is None and band.ordering_policy is None:
        ordering_raw = template.ordering_parameters
    where = f"band {name or priority}"
    fairness_model = FAIRNESS_POLICY_PARAMETERS[fairness]
    ordering_model = ORDERING_POLICY_PARAMETERS[ordering]
    fairness_params = _parameters(fairness_model, fairness_raw, fairness, where)
    ordering_params = _parameters(ordering_model, ordering_raw, ordering, where)
    weights = (
        fairness_params
        if isinstance(fairness_params, VirtualTokenFairnessParameters)
        else VirtualTokenFairnessParameters()
    )
    return BandSettings(
        priority=priority,
        name=name or f"priority{priority:+d}",
        max_bytes=band.max_bytes or template.max_bytes or DEFAULT_BAND_MAX_BYTES,
        max_requests=band.max_requests or template.max_requests or DEFAULT_BAND_MAX_REQUESTS,
        fairness_policy=fairness,
        fairness_parameters=fairness_params,
        ordering_policy=ordering,
        ordering_parameters=ordering_params,
        token_weights=weights,
    )


def _parameters(
    model: type[PolicyParameters], raw: dict[str, object] | None, policy: str, where: str
) -> PolicyParameters:
    try:
        return model.model_validate(raw or {})
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ValueError(f"{where}: invalid parameters for policy {policy!r}: {exc}") from exc


class FlowControlConfig(_Section):
    """The ``flowControl`` section (see the module docstring for an example)."""

    shard_count: int = Field(
        default=DEFAULT_SHARD_COUNT, ge=1, le=MAX_SHARD_COUNT, alias="shardCount"
    )
    max_bytes: int = Field(default=0, alias="maxBytes")
    max_requests: int = Field(default=0, alias="maxRequests")
    default_request_ttl_s: float = Field(default=DEFAULT_REQUEST_TTL_S, alias="defaultRequestTTL")
    objective_request_ttls_s: dict[str, float] = Field(
        default_factory=dict, alias="objectiveRequestTTLs"
    )
    flow_idle_timeout_s: float = Field(
        default=DEFAULT_FLOW_IDLE_TIMEOUT_S, gt=0.0, alias="flowIdleTimeout"
    )
    default_priority_band: BandTemplate = Field(
        default_factory=BandTemplate, alias="defaultPriorityBand"
    )
    priority_bands: tuple[PriorityBandConfig, ...] = Field(default=(), alias="priorityBands")

    @field_validator("max_bytes", "max_requests", mode="before")
    @classmethod
    def _quantity(cls, value: object) -> int:
        return parse_quantity(value)

    @field_validator("default_request_ttl_s", "flow_idle_timeout_s", mode="before")
    @classmethod
    def _duration(cls, value: object, info: ValidationInfo) -> float:
        return _duration(value, info)

    @field_serializer("default_request_ttl_s", "flow_idle_timeout_s")
    def _render_duration(self, value: float) -> str:
        return format_duration(value)

    @field_serializer("objective_request_ttls_s")
    def _render_ttls(self, value: dict[str, float]) -> dict[str, str]:
        return {name: format_duration(ttl) for name, ttl in value.items()}

    @field_validator("objective_request_ttls_s", mode="before")
    @classmethod
    def _ttls(cls, value: object, info: ValidationInfo) -> dict[str, float]:
        if not isinstance(value, dict):
            raise ValueError("must be a mapping of InferenceObjective name to duration")
        return {str(name): _duration(ttl, info) for name, ttl in value.items()}

    @field_validator("priority_bands", mode="before")
    @classmethod
    def _list(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _check_bands(self) -> Self:
        seen: dict[int, str] = {}
        names: set[str] = set()
        for band in self.priority_bands:
            if band.priority in seen:
                raise ValueError(f"priorityBands: priority {band.priority} is listed twice")
            resolved = _merge(band.priority, band.name, band, self.default_priority_band)
            if resolved.name in names:
                raise ValueError(f"priorityBands: name {resolved.name!r} is used twice")
            seen[band.priority] = resolved.name
            names.add(resolved.name)
        _merge(0, "defaultPriorityBand", self.default_priority_band, BandTemplate())
        return self

    def band(self, priority: int) -> BandSettings:
        """The effective settings of the band at ``priority`` (created on demand)."""
        for band in self.priority_bands:
            if band.priority == priority:
                return _merge(priority, band.name, band, self.default_priority_band)
        return _merge(priority, "", self.default_priority_band, BandTemplate())

    def request_ttl_s(self, objective: str | None) -> float:
        """The TTL of a request of ``objective``: its override, else the default (0 = none)."""
        if objective and objective in self.objective_request_ttls_s:
            return self.objective_request_ttls_s[objective]
        return self.default_request_ttl_s
