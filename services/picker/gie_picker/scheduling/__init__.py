"""Scheduling: choosing the endpoints for a request from the pool view.

Upstream's framework, in the same shape. A :class:`Scheduler` asks its profile
handler which profiles to run; each :class:`SchedulerProfile` runs its filters
(in order), its scorers (each score clamped to [0, 1], times the scorer's
weight, summed per endpoint) and its picker, which returns the primary endpoint
and fallbacks; the handler names the primary profile. Plugins are built from
an ``EffectiveConfig`` (``gie_picker.config``) by :func:`build_scheduler`
through a :class:`PluginRegistry` (:func:`register_builtins` adds the built-in
plugins). Latencies go to ``inference_extension_scheduler_e2e_duration_seconds``
and ``inference_extension_plugin_duration_seconds``.

Concurrency: a scheduler and its plugins belong to the event loop that feeds
the pool view; ``schedule`` is synchronous, does no I/O, and is not thread-safe.
"""

from __future__ import annotations

from gie_picker.scheduling.adapter import scheduling_request
from gie_picker.scheduling.builder import build_scheduler
from gie_picker.scheduling.builtins import builtin_registry, register_builtins
from gie_picker.scheduling.contracts import (
    Filter,
    InFlightCounts,
    Picker,
    Plugin,
    PluginContext,
    PluginKind,
    ProfileHandler,
    ProfileRunner,
    ProfileRunResult,
    SchedulingRequest,
    SchedulingResult,
    ScoredEndpoint,
    Scorer,
    plugin_kinds,
)
from gie_picker.scheduling.errors import DuplicatePluginTypeError, NoEndpointError, SchedulingError
from gie_picker.scheduling.metrics import SchedulerMetrics
from gie_picker.scheduling.parameters import NoParameters, PickerParameters, PluginParameters
from gie_picker.scheduling.profile import SchedulerProfile, WeightedScorer
from gie_picker.scheduling.registry import PluginEntry, PluginRegistry
from gie_picker.scheduling.scheduler import Scheduler

__all__ = [
    "DuplicatePluginTypeError",
    "Filter",
    "InFlightCounts",
    "NoEndpointError",
    "NoParameters",
    "Picker",
    "PickerParameters",
    "Plugin",
    "PluginContext",
    "PluginEntry",
    "PluginKind",
    "PluginParameters",
    "PluginRegistry",
    "ProfileHandler",
    "ProfileRunResult",
    "ProfileRunner",
    "Scheduler",
    "SchedulerMetrics",
    "SchedulerProfile",
    "SchedulingError",
    "SchedulingRequest",
    "SchedulingResult",
    "ScoredEndpoint",
    "Scorer",
    "WeightedScorer",
    "build_scheduler",
    "builtin_registry",
    "plugin_kinds",
    "register_builtins",
    "scheduling_request",
]
