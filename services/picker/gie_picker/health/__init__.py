"""Endpoint health: which endpoints of the pool the picker leaves out, and for how long.

A model server that fails is left out of scheduling until it recovers, judged two
ways (:class:`EndpointHealth`):

* **from its scrapes**: the metrics-collector publishes each endpoint's metrics at
  least every heartbeat; an endpoint whose last published scrape is older than
  ``unreachable_after_s`` (while it was scraped before) cannot be scraped: refused,
  reset, or hung past the scrape timeout. It is back with its next good scrape.
* **from completion records**: a connect failure, a reset or a 5xx that the
  gateway reports of an endpoint (the one that served, or one it tried first and
  moved on from) ejects it for ``base_ejection_s``, doubled at each ejection in a
  row up to ``max_ejection_s``; a success after an ejection ends the doubling.

Leaving every candidate out helps nobody: then all of them are used, and that is
counted. Each ejection and each return is logged and counted
(:class:`HealthMetrics`).

Concurrency: one :class:`EndpointHealth` per picker process, used on the event loop
that feeds the view (routing decisions and completion records both run there).
Records reach the process that received them, so with several picker processes
each learns from its share of them; the scrape judgement is the same everywhere.
"""

from __future__ import annotations

from gie_picker.health.endpoint_health import EndpointHealth
from gie_picker.health.metrics import HealthMetrics

__all__ = ["EndpointHealth", "HealthMetrics"]
