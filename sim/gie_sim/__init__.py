"""Simulated OpenAI-compatible model server (vLLM, SGLang or TensorRT-LLM metrics).

How it is put together (one concept per module):

* :mod:`~gie_sim.config` -- :class:`SimConfig`, the performance profile, and the pure step-time
  formula (``SimConfig.step_seconds``).
* :mod:`~gie_sim.tokenizer` / :mod:`~gie_sim.chat_template` -- deterministic text -> token ids
  (one token per 4 characters), Llama-3-like chat template, filler output text.
* :mod:`~gie_sim.kv_cache` -- paged KV cache with vLLM-style automatic prefix caching
  (chained block hashes, ref-counted pinning, LRU eviction).
* :mod:`~gie_sim.scheduler` -- continuous batching with chunked prefill; pure and synchronous:
  ``schedule(start) -> StepPlan`` then ``complete(plan, end)``.
* :mod:`~gie_sim.engine` -- the async loop driving a scheduler against an injectable
  :class:`gie.clock.Clock` (real :class:`~gie.clock.SystemClock`, or
  :class:`~gie.clock.ManualClock` for tests, whose sleeps advance time at once).
* :mod:`~gie_sim.openai_api` / :mod:`~gie_sim.openai_responses` -- request validation and
  response/SSE bodies.
* :mod:`~gie_sim.metrics_page` -- the Prometheus page in the configured flavour
  (:mod:`~gie_sim.page_vllm`, :mod:`~gie_sim.page_sglang`, :mod:`~gie_sim.page_trtllm`,
  rendered by :mod:`~gie_sim.prom_format`).
* :mod:`~gie_sim.faults` / :mod:`~gie_sim.overrides` / :mod:`~gie_sim.admin_api` -- fault
  modes of ``/metrics`` (slow, HTTP 500, garbage, ...) and metric overrides, switched at
  run time through ``/sim/faults`` and ``/sim/overrides``.
* :mod:`~gie_sim.server` -- :class:`SimServer`, one aiohttp app + engine per ``ip:port``;
  :mod:`~gie_sim.cluster` -- :func:`run_servers` for N servers; :mod:`~gie_sim.__main__` -- CLI.

Concurrency model: everything runs on one asyncio event loop in one thread. Each server has
its own aiohttp ``AppRunner``/``TCPSite`` and its own engine task; nothing is shared between
servers. An engine task sleeps on an ``asyncio.Event`` while idle and otherwise sleeps for the
(scaled) duration of each simulated step, batching several steps per wake-up when a step is
shorter than a millisecond, so idle or fast-forwarded servers cost almost no CPU. Request
handlers wait on a per-request event that the engine sets whenever the request produced tokens.

Quick start inside an existing event loop::

    async with run_servers(count=2, config=SimConfig(time_scale=0.01)) as servers:
        print(servers[0].address)  # "127.0.0.1:41234"
"""

from __future__ import annotations

from gie_sim.cluster import run_servers, start_servers, stop_servers
from gie_sim.config import SimConfig
from gie_sim.engine import Engine, EngineSnapshot
from gie_sim.faults import FaultMode, Faults
from gie_sim.kv_cache import PrefixCache, hash_blocks
from gie_sim.metrics_page import render_metrics
from gie_sim.overrides import MetricOverrides
from gie_sim.request import SimRequest
from gie_sim.scheduler import EngineStats, RequestRejected, Scheduler, StepPlan
from gie_sim.server import SERVED_BY_HEADER, SimServer

__all__ = [
    "SERVED_BY_HEADER",
    "Engine",
    "EngineSnapshot",
    "EngineStats",
    "FaultMode",
    "Faults",
    "MetricOverrides",
    "PrefixCache",
    "RequestRejected",
    "Scheduler",
    "SimConfig",
    "SimRequest",
    "SimServer",
    "StepPlan",
    "hash_blocks",
    "render_metrics",
    "run_servers",
    "start_servers",
    "stop_servers",
]
