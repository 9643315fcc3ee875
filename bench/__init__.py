"""gie bench: routing quality and overhead of gie, side by side with the routers users
would pick instead, on simulated vLLM servers, on this machine, with one command.

How it is put together:

* :mod:`~bench.workloads`: seeded, deterministic workloads (``shared-prefix``,
  ``multi-turn-chat``, ``long-prompt``, ``mixed``, ``lora-mix``) and the scenarios that
  size them; :mod:`~bench.options` resolves a :class:`BenchOptions` into a plan.
* :mod:`~bench.arms`: the routers (``gie``, ``round-robin``, ``sglang-router-*``,
  ``vllm-router-*``), each started in front of the servers and stopped after a run.
* :mod:`~bench.fleet`: a fresh set of ``gie_sim`` servers for every run.
* :mod:`~bench.loadgen`: the async streaming load generator (Poisson or closed loop).
* :mod:`~bench.measure`: CPU from ``/proc``, the servers' own counters, statistics.
* :mod:`~bench.point` measures one arm at one load; :mod:`~bench.runner` runs them all;
  :mod:`~bench.results` holds what came out; :mod:`~bench.report` writes JSON,
  markdown and PNG plots.

Import what you need from the submodules (``bench.runner.run_bench``,
``bench.options.BenchOptions``, ...): this package module imports nothing, so
``python -m bench.picker_overhead`` and other tools here stay light.

Concurrency model: one asyncio event loop; arms and loads run strictly one after
another, so a measurement shares the machine only with the load generator. Processes
are started in their own sessions and stopped by process group. Errors:
:mod:`bench.errors`.
"""
