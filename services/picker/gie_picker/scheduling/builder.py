"""Building the scheduler an effective configuration describes."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from gie.prefix import PrefixKey
from gie_picker.scheduling.builtins import builtin_registry
from gie_picker.scheduling.contracts import (
    Filter,
    InFlightCounts,
    Picker,
    Plugin,
    PluginContext,
    PreciseLookup,
    PrefixLookup,
    ProfileHandler,
    RoutingMemory,
    Scorer,
)
from gie_picker.scheduling.errors import SchedulingError
from gie_picker.scheduling.metrics import SchedulerMetrics
from gie_picker.scheduling.profile import SchedulerProfile, WeightedScorer
from gie_picker.scheduling.registry import PluginRegistry
from gie_picker.scheduling.scheduler import Scheduler

if TYPE_CHECKING:
    from gie_picker.config import EffectiveConfig, ProfileSpec


def _instances(
    config: EffectiveConfig, plugins: PluginRegistry, context: PluginContext
) -> dict[str, Plugin]:
    instances: dict[str, Plugin] = {}
    for spec in config.plugins:
        entry = plugins.get(spec.type)
        if entry is None:
            raise SchedulingError(f"plugin type {spec.type!r} is not registered")
        instances[spec.name] = entry.create(spec.name, spec.parameters, context)
    return instances


def _profile(
    spec: ProfileSpec, instances: dict[str, Plugin], metrics: SchedulerMetrics
) -> SchedulerProfile:
    filters: list[Filter] = []
    scorers: list[WeightedScorer] = []
    pickers: list[Picker] = []
    for ref in spec.plugins:
        plugin = instances[ref.plugin_ref]
        if isinstance(plugin, Filter):
            filters.append(plugin)
        if isinstance(plugin, Scorer):
            scorers.append(WeightedScorer(plugin, ref.weight if ref.weight is not None else 1))
        if isinstance(plugin, Picker):
            pickers.append(plugin)
    if len(pickers) != 1:
        raise SchedulingError(f"profile {spec.name!r} needs one picker, has {len(pickers)}")
    return SchedulerProfile(
        spec.name, filters=filters, scorers=scorers, picker=pickers[0], metrics=metrics
    )


def build_scheduler(
    config: EffectiveConfig,
    *,
    registry: CollectorRegistry,
    inflight: InFlightCounts,
    rng: random.Random | None = None,
    plugins: PluginRegistry | None = None,
    prefix_cache: PrefixLookup | None = None,
    routing: RoutingMemory | None = None,
    prefix_key: PrefixKey | None = None,
) -> Scheduler:
    """A scheduler running ``config``'s profiles, its histograms on ``registry``.

    ``inflight`` feeds ``active-request-scorer``; ``rng`` drives the pickers'
    random choices (seed it in tests); ``plugins`` defaults to the built-ins and
    must be the registry the config was loaded with; ``prefix_key`` keys the prefix
    scorers' hashes (the public default when None).
    """
    context = PluginContext(
        inflight=inflight,
        rng=rng or random.Random(),
        prefix_cache=prefix_cache,
        routing=routing,
        saturation=config.saturation,
        precise_prefix=prefix_cache if isinstance(prefix_cache, PreciseLookup) else None,
        prefix_key=prefix_key or PrefixKey.public_default(),
    )
    instances = _instances(config, plugins or builtin_registry(), context)
    metrics = SchedulerMetrics(registry)
    handler = instances[config.profile_handler]
    if not isinstance(handler, ProfileHandler):
        raise SchedulingError(f"plugin {config.profile_handler!r} is not a profile handler")
    profiles = {spec.name: _profile(spec, instances, metrics) for spec in config.profiles}
    return Scheduler(handler=handler, profiles=profiles, metrics=metrics)
