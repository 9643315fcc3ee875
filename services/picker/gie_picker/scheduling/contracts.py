"""The scheduling framework's contracts: what flows through it and the plugin roles.

A plugin is an object with a ``TYPE`` (its registry name) and a ``name`` (its
instance name in the config) that plays one or more roles: :class:`Filter`,
:class:`Scorer`, :class:`Picker`, :class:`ProfileHandler`. Plugins are called
from the event loop that owns the pool view, one request at a time; they MUST
NOT block or do I/O, and MUST NOT mutate what they are given.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol, runtime_checkable

from gie.prefix import PrefixKey
from gie.saturation import SaturationConfig
from gie.tokenize import CharsTokenizer, PromptInput, Tokenizer
from gie.view import EndpointState

PluginKind = Literal["filter", "scorer", "picker", "profile-handler"]


@dataclass(frozen=True, slots=True)
class SchedulingRequest:
    """What scheduling knows of a request. ``model`` is after any rewrite."""

    request_id: str
    model: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body_bytes: int = 0
    prompt: str = ""
    cache_salt: str = ""
    priority: int = 0
    prompt_input: PromptInput | None = None  # the prompt before tokenizing (precise prefix)

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name; None when absent."""
        value = self.headers.get(name)
        if value is not None:
            return value
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass(frozen=True, slots=True)
class ScoredEndpoint:
    """A candidate with its weighted score (the sum over the profile's scorers)."""

    endpoint: EndpointState
    score: float

    @property
    def address(self) -> str:
        return self.endpoint.address


@dataclass(frozen=True, slots=True)
class ProfileRunResult:
    """The endpoints one profile picked, best first."""

    endpoints: tuple[EndpointState, ...]


@dataclass(frozen=True, slots=True)
class SchedulingResult:
    """The outcome of scheduling: ``endpoints`` are the primary then the fallbacks."""

    endpoints: tuple[str, ...]
    primary_profile: str
    profile_results: Mapping[str, ProfileRunResult | None]

    @property
    def primary(self) -> str:
        return self.endpoints[0]


@runtime_checkable
class Plugin(Protocol):
    TYPE: ClassVar[str]
    name: str


@runtime_checkable
class Filter(Plugin, Protocol):
    def filter(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> list[EndpointState]:
        """The endpoints that may serve the request, a subset of ``endpoints``."""


@runtime_checkable
class Scorer(Plugin, Protocol):
    """A scorer MAY set ``ENDPOINTS_ONLY: ClassVar[bool] = True`` when its scores are a
    function of the endpoint states alone (not of the request, the time or any other
    state): a profile then reuses them for as long as its candidates are unchanged."""

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        """Address -> score in [0, 1], 1 best. Values outside are clamped; a missing
        address scores 0."""


@runtime_checkable
class Picker(Plugin, Protocol):
    def pick(self, scored: Sequence[ScoredEndpoint]) -> ProfileRunResult:
        """Choose from ``scored`` (never empty), best first."""


class ProfileRunner(Protocol):
    """A scheduling profile as a profile handler sees it."""

    name: str

    def run(
        self, request: SchedulingRequest, candidates: Sequence[EndpointState]
    ) -> ProfileRunResult:
        """Filters, then scorers, then the picker; NoEndpointError when filters leave none."""


@runtime_checkable
class ProfileHandler(Plugin, Protocol):
    def pick_profiles(
        self,
        request: SchedulingRequest,
        profiles: Mapping[str, ProfileRunner],
        results: Mapping[str, ProfileRunResult | None],
    ) -> Mapping[str, ProfileRunner]:
        """The profiles to run next, given what ran so far; empty when done.

        ``results`` holds None for a profile that left no endpoint."""

    def process_results(
        self, request: SchedulingRequest, results: Mapping[str, ProfileRunResult | None]
    ) -> str:
        """The name of the primary profile, whose endpoints route the request.

        Raises SchedulingError when the results cannot be combined."""


class InFlightCounts(Protocol):
    """Requests in flight per endpoint address (see ``gie.view.InFlightView``)."""

    def count(self, address: str) -> int: ...


@dataclass(frozen=True, slots=True)
class PreparedPrefix:
    """A request's prompt block hashes and how the target's index is to be sized."""

    hashes: tuple[int, ...]
    block_size: int
    auto_tune: bool
    default_capacity: int
    # The index's match for ``hashes`` when the scorer computed it: routing follows
    # scoring without yielding to the event loop, so it is still the match then.
    matched: Mapping[str, int] | None = None


class PrefixLookup(Protocol):
    """The shared prefix cache (see ``gie_picker.prefixcache.state.PrefixCacheState``)."""

    def prepare(self, request_id: str, prepared: PreparedPrefix) -> None: ...

    def match(self, hashes: Sequence[int]) -> dict[str, int]: ...

    def prepared_hashes(self, request_id: str) -> tuple[int, ...] | None: ...


@runtime_checkable
class PreciseLookup(Protocol):
    """What the model servers' own KV events say they cache (see ``gie.prefix.PreciseIndex``)."""

    def precise_known(self, address: str) -> bool:
        """True when the endpoint's cache contents are known from its events."""

    def precise_block_size(self, address: str) -> int | None:
        """Tokens per block the endpoint announced (None: not yet)."""

    def precise_match(self, keys: Sequence[int], addresses: Sequence[str]) -> dict[str, int]:
        """Leading ``keys`` held per known endpoint among ``addresses``."""

    def precise_untokenized(self, tokenizer: str) -> None:
        """Count a prompt ``tokenizer`` refused (the approximate estimate stood in)."""

    def recent_share(self, request_id: str, within_s: float) -> dict[str, float]:
        """Per endpoint, the share of the request's prompt (its prepared approximate blocks)
        that this replica routed there in the last ``within_s`` seconds."""


class RoutingMemory(Protocol):
    """Recent routing (see ``gie.view.RoutingHistory`` and the director's session hook)."""

    def least_recent_first(self, addresses: list[str]) -> list[str]: ...

    def session_endpoint(self, session: str) -> str | None: ...

    def prepare_session(self, request_id: str, session: str) -> None: ...


@dataclass(frozen=True, slots=True)
class PluginContext:
    """What a plugin factory may use besides its parameters."""

    inflight: InFlightCounts
    rng: random.Random
    prefix_cache: PrefixLookup | None = None
    routing: RoutingMemory | None = None
    saturation: SaturationConfig = field(default_factory=SaturationConfig)
    precise_prefix: PreciseLookup | None = None
    tokenizer: Tokenizer = field(default_factory=CharsTokenizer)
    prefix_key: PrefixKey = field(default_factory=PrefixKey.public_default)


def plugin_kinds(plugin: object) -> frozenset[PluginKind]:
    """The roles ``plugin`` plays."""
    roles: tuple[tuple[type, PluginKind], ...] = (
        (Filter, "filter"),
        (Scorer, "scorer"),
        (Picker, "picker"),
        (ProfileHandler, "profile-handler"),
    )
    return frozenset(kind for protocol, kind in roles if isinstance(plugin, protocol))
