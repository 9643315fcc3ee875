"""``gie bench --scenario faults``: what each fault costs under steady load.

One local stack with two replicas of every service (two pickers, collectors, ingests
and flow-controllers, flow control on) in front of model servers that each run in
their own ``gie_sim`` process, so one can be killed or stopped for real. A closed-loop
load runs through the gateway; the faults of :mod:`~bench.faults.catalog` are injected
one at a time, each healed before the next.

* :mod:`~bench.faults.options`: the scenario's settings (``--quick`` and full);
* :mod:`~bench.faults.servers`: the model servers, one process each on a fixed port;
* :mod:`~bench.faults.processes`: killing, stopping and restarting a stack process;
* :mod:`~bench.faults.load`: the load and every request's outcome;
* :mod:`~bench.faults.views`: the pickers' view digests and stream positions, sampled;
* :mod:`~bench.faults.catalog`: the faults, each a small inject/heal pair;
* :mod:`~bench.faults.measure`: one fault's numbers from the outcomes and samples;
* :mod:`~bench.faults.runner`: the whole run; :mod:`~bench.faults.cli` prints it.

Concurrency: one asyncio loop drives the load, the view sampler and the faults.
"""

from __future__ import annotations

from bench.faults.catalog import FAULTS
from bench.faults.options import FaultsOptions
from bench.faults.runner import run_faults

__all__ = ["FAULTS", "FaultsOptions", "run_faults"]
