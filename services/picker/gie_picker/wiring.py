"""Building the picker's parts from its settings (no I/O beyond reading the config)."""

from __future__ import annotations

import random

import structlog
from prometheus_client import CollectorRegistry

from gie.prefix import PrefixKey
from gie.view import InFlightView
from gie_picker.config import EffectiveConfig, default_config, load_config, log_effective
from gie_picker.prefixcache.state import PrefixCacheState
from gie_picker.projections.routing_memory import RoutingMemory
from gie_picker.scheduling import build_scheduler
from gie_picker.scheduling.configured import ConfiguredScheduler
from gie_picker.settings import PickerSettings


def load_picker_config(settings: PickerSettings) -> EffectiveConfig:
    """The configured EndpointPickerConfig, or upstream's default; raises ConfigError."""
    config = load_config(settings.config_file) if settings.config_file else default_config()
    log_effective(config, structlog.get_logger("gie.picker"))
    return config


def configured_scheduler(
    config: EffectiveConfig,
    *,
    registry: CollectorRegistry,
    inflight: InFlightView,
    prefix_cache: PrefixCacheState | None = None,
    routing: RoutingMemory | None = None,
    rng: random.Random | None = None,
    prefix_key: PrefixKey | None = None,
) -> ConfiguredScheduler:
    return ConfiguredScheduler(
        build_scheduler(
            config,
            registry=registry,
            inflight=inflight,
            rng=rng,
            prefix_cache=prefix_cache,
            routing=routing,
            prefix_key=prefix_key,
        )
    )
