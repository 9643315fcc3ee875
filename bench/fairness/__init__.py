"""``gie bench --scenario fairness``: two tenants in one band, one at 10x the other's rate.

Runs the same open-loop load twice on a saturated pool of simulated servers (two
picker replicas and two flow-controller replicas behind Envoy): once with the picker's
``flowControl`` feature gate and ``virtual-token-fairness``, once without. Reports
Jain's index over the tenants' served weighted tokens while both are backlogged, the
light tenant's TTFT p99 in both runs, the requests served per second in both, and the
CPU overhead of the gate while the pool is not saturated (paired rounds, with a 95%
confidence interval).
"""

from __future__ import annotations

from bench.fairness.metrics import jain_index, served_while_backlogged
from bench.fairness.runner import FairnessOptions, run_fairness

__all__ = ["FairnessOptions", "jain_index", "run_fairness", "served_while_backlogged"]
