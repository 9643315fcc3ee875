"""A fast reader of the few series the collector needs from Prometheus text (format 0.0.4).

Instead of tokenising the whole page, :func:`find_samples` looks for each wanted metric name
at the start of a line (``str.find`` runs in C) and parses only those lines, so the cost
grows with the number of wanted series, not with the size of the page: a model server's page
is mostly histograms nobody here reads. ``docs/metrics-collector.md`` has the numbers
against prometheus-client's parser.

Wanted lines are parsed strictly; a problem raises :class:`~gie_metrics_collector.errors.
PageError` with a stable ``reason``:

* ``truncated`` -- the page does not end with a newline (every exposition line must);
* ``garbage`` -- a wanted line has malformed labels, value or timestamp;
* ``non_finite`` -- a wanted sample is NaN or infinite.

Lines of other metrics are not looked at, so garbage elsewhere in a page does not matter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gie_metrics_collector.errors import PageError

__all__ = ["CACHE_LINES", "Sample", "find_samples"]

CACHE_LINES = 256

_QUOTED = r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
_PAIR = rf"\s*[A-Za-z_][A-Za-z0-9_]*\s*=\s*{_QUOTED}\s*"
# The rest of a sample line after the metric name: an optional, fully validated label
# block (quoted values may hold "}" and ","), the value, an optional timestamp.
_TAIL = re.compile(rf"(?:\{{((?:{_PAIR},)*(?:{_PAIR})?)\}})?[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t\r]*")
_PAIRS = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"\\\n]*(?:\\.[^"\\\n]*)*)"')
_ESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"n": "\n", "\\": "\\", '"': '"'}
_NAME_ENDS = frozenset("{ \t")


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample of a wanted metric. Shared through the line cache: never mutate it."""

    labels: Mapping[str, str]
    value: float
    timestamp_ms: int | None = None


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(0)), value)


def _parse_line(page: str, pos: int, end: int, start: int) -> Sample:
    tail = _TAIL.fullmatch(page, pos, end)
    if tail is None:
        raise PageError("garbage", f"bad sample line {page[start : min(end, start + 120)]!r}")
    block, raw_value, raw_timestamp = tail.groups()
    labels = {
        key: _unescape(value) if "\\" in value else value
        for key, value in (_PAIRS.findall(block) if block else ())
    }
    try:
        value = float(raw_value)
        timestamp = int(raw_timestamp) if raw_timestamp is not None else None
    except ValueError:
        raise PageError("garbage", f"bad value in line {page[start:end][:120]!r}") from None
    if not math.isfinite(value):
        raise PageError("non_finite", f"non-finite value in line {page[start:end][:120]!r}")
    return Sample(labels, value, timestamp)


def find_samples(
    page: str, names: Iterable[str], cache: dict[str, Sample] | None = None
) -> dict[str, list[Sample]]:
    """Samples of each wanted metric name present in ``page``, in page order.

    Names absent from the page are absent from the result. ``cache`` (line text ->
    sample), kept by the caller from one scrape of an endpoint to the next, skips parsing
    lines that did not change; it is cleared when it grows past :data:`CACHE_LINES`.
    """
    if cache is not None and len(cache) > CACHE_LINES:
        cache.clear()
    if not page.endswith("\n"):
        raise PageError("truncated", "the page does not end with a newline")
    found: dict[str, list[Sample]] = {}
    for name in names:
        # Search "\n<name>" so that HELP/TYPE lines and other text are skipped in C.
        needle = "\n" + name
        line = 0 if page.startswith(name) else _line_after(page, needle, 0)
        while line >= 0:
            after = line + len(name)
            if page[after] in _NAME_ENDS:
                end = page.find("\n", after)
                if cache is None:
                    sample = _parse_line(page, after, end, line)
                else:
                    text = page[line:end]
                    sample = cache.get(text) or cache.setdefault(
                        text, _parse_line(page, after, end, line)
                    )
                found.setdefault(name, []).append(sample)
                after = end
            elif page[after] in "\r\n":
                raise PageError("garbage", f"no value in line {name!r}")
            line = _line_after(page, needle, after)
    return found


def _line_after(page: str, needle: str, pos: int) -> int:
    at = page.find(needle, pos)
    return at + 1 if at >= 0 else -1
