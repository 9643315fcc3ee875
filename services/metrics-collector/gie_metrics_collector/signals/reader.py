"""Turn one endpoint's metrics page into :class:`~gie.events.EndpointMetrics`.

One :class:`SignalReader` per endpoint: it remembers the endpoint's flavour (pinned, or
recognised from the first page), the last page and a line cache, so an unchanged page costs
one bytes comparison and an unchanged line one dictionary lookup.

The waiting queue and KV-cache utilisation are required: a page without them raises
``PageError("missing_signal")`` and the endpoint keeps its last good values (upstream would
refresh the timestamp and hide the problem). Optional signals missing from a page keep
their previous values, as upstream's partial updates do. When several series match a spec
(vLLM data-parallel exposes one per engine), counts are summed and utilisation averaged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from gie.events import EndpointMetrics
from gie_metrics_collector.errors import PageError
from gie_metrics_collector.parsing import MetricSpec, Sample, find_samples
from gie_metrics_collector.signals.flavours import Flavour, SignalSpecs, detect_flavour
from gie_metrics_collector.signals.lora import latest_lora

__all__ = ["SignalReader"]

# What optional signals default to before any page had them.
_NOTHING = EndpointMetrics(waiting_queue_size=0, running_requests=0, kv_cache_usage=0.0)


def _matching(found: Mapping[str, list[Sample]], specs: Sequence[MetricSpec]) -> list[Sample]:
    for spec in specs:
        hits = [s for s in found.get(spec.name, ()) if spec.matches(s.labels)]
        if hits:
            return hits
    return []


def _total(samples: Sequence[Sample]) -> float | None:
    return sum(s.value for s in samples) if samples else None


def _positive_int(value: str | float | None) -> int | None:
    try:
        number = int(float(value)) if value is not None else 0
    except (ValueError, OverflowError):
        return None
    return number if number > 0 else None


def _looks_like_exposition(page: str) -> bool:
    return "# TYPE " in page or "# HELP " in page


class SignalReader:
    """Reads one endpoint's pages. Not thread-safe; one scrape loop owns it."""

    def __init__(self, specs: Mapping[Flavour, SignalSpecs], *, pinned: Flavour | None) -> None:
        self._specs = specs
        self._pinned = pinned
        self._detected: Flavour | None = None
        self._cache: dict[str, Sample] = {}
        self._last_body = b""
        self._last: EndpointMetrics | None = None

    @property
    def flavour(self) -> Flavour | None:
        """The flavour pages are read as (None until recognised)."""
        return self._pinned or self._detected

    def pin(self, flavour: Flavour | None) -> None:
        """Read pages as ``flavour`` from now on (None: recognise it from the page)."""
        if flavour != self._pinned:
            self._pinned, self._detected, self._last_body = flavour, None, b""

    def read(self, body: bytes, previous: EndpointMetrics | None) -> EndpointMetrics:
        """The metrics on ``body``; raises :class:`PageError` for an unusable page."""
        if body == self._last_body and self._last is not None:
            return self._last
        try:
            page = body.decode()
        except UnicodeDecodeError:
            raise PageError("garbage", "the page is not UTF-8 text") from None
        flavour = self.flavour or detect_flavour(page)
        if flavour is None:
            reason = "missing_signal" if _looks_like_exposition(page) else "garbage"
            raise PageError(reason, "no vLLM, SGLang or TensorRT-LLM metrics on the page")
        try:
            metrics = self._extract(page, self._specs[flavour], previous)
        except PageError:
            self._detected = None  # recognise the flavour again on the next page
            raise
        self._detected = flavour if self._pinned is None else None
        self._last_body, self._last = body, metrics
        return metrics

    def _extract(
        self, page: str, specs: SignalSpecs, previous: EndpointMetrics | None
    ) -> EndpointMetrics:
        found = find_samples(page, specs.names, self._cache)
        queue = _matching(found, specs.queue)
        usage = _matching(found, specs.kv_usage)
        for signal, series in (("queue", queue), ("kv_usage", usage)):
            if not series:
                reason = "missing_signal" if _looks_like_exposition(page) else "garbage"
                wanted = " or ".join(str(spec) for spec in getattr(specs, signal))
                raise PageError(reason, f"no {wanted} series on the page")
        running = _total(_matching(found, specs.running))
        lora = latest_lora(_matching(found, specs.lora))
        info = _matching(found, specs.cache_info)
        block_size = _positive_int(info[0].labels.get(specs.block_size_label)) if info else None
        num_blocks = _positive_int(info[0].labels.get(specs.num_blocks_label)) if info else None
        block_size = block_size or _positive_int(_total(_matching(found, specs.block_size)))
        num_blocks = num_blocks or _positive_int(_total(_matching(found, specs.num_blocks)))
        hits = _total(_matching(found, specs.prefix_hits))
        queries = _total(_matching(found, specs.prefix_queries))
        old = previous or _NOTHING
        try:
            return EndpointMetrics(
                waiting_queue_size=max(0, int(sum(s.value for s in queue))),
                running_requests=old.running_requests if running is None else max(0, int(running)),
                kv_cache_usage=min(1.0, max(0.0, sum(s.value for s in usage) / len(usage))),
                kv_block_size=block_size or old.kv_block_size,
                kv_num_blocks=num_blocks or old.kv_num_blocks,
                prefix_cache_hits=old.prefix_cache_hits if hits is None else max(0.0, hits),
                prefix_cache_queries=(
                    old.prefix_cache_queries if queries is None else max(0.0, queries)
                ),
                lora_running=old.lora_running if lora is None else lora.running,
                lora_waiting=old.lora_waiting if lora is None else lora.waiting,
                max_lora=old.max_lora if lora is None else lora.max_lora,
            )
        except ValidationError as exc:
            raise PageError("garbage", f"unusable values: {exc.errors()[0]['msg']}") from None
        except (ValueError, OverflowError) as exc:  # e.g. series summing to inf or NaN
            raise PageError("garbage", f"unusable values: {exc}") from None
