"""``bench/picker_overhead``: what the picker costs through Envoy, next to a bare ext_proc.

One run measures these arms with the same load (``POST /v1/completions``, a one-token
prompt) through Envoy with the configuration gie ships:

* ``envoy-direct``: no ext_proc; the client names the endpoint (the latency baseline);
* ``bare-1`` / ``bare-4``: a minimal ``grpc.aio`` ext_proc server answering one fixed
  endpoint, in 1 / 4 processes (each its own port, listed round-robin by Envoy);
* ``gie-1`` / ``gie-4``: the picker (``python -m gie_picker``) with 1 / 4 workers and
  100 endpoints in its view, fed from NATS;
* ``gie-1-tls`` / ``gie-1-tls-bus``: ``gie-1`` over mutual TLS, and also on NATS over
  TLS as its own user (see :mod:`bench.picker_overhead.arms`).

Each arm, each round: warm-up, an idle window, a saturated window (closed loop) and a
paced one (a fixed rate every arm sustains). It reports client-side p50/p99 and the
latency each arm adds over ``envoy-direct``, throughput, CPU per request of the ext_proc
servers (all workers), Envoy, NATS, the upstreams and the load generator, ext_proc CPU
when idle, the machine's busy cores (and how much other processes took), the share of
streams per worker, and the targets: picker CPU/request at most 1.5x the bare server's,
and 25% +- 5% of the streams per worker with 4 workers. See docs/picker-overhead.md.

How it is put together: the servers and the load generator are separate processes
(``upstream_server.py``, ``bare_server.py``, ``loadgen.py``, started by path so they load
nothing of the harness; the picker as shipped). The harness (:mod:`.runner`,
:mod:`.measure`) starts them through :mod:`.processes`, drives the load generator phase
by phase (:mod:`.load_client`), samples CPU from ``/proc`` around each window
(:mod:`.cpu_groups`), summarizes (:mod:`.summary`, :mod:`.targets`) and prints
:mod:`.report`; ``--profile`` adds py-spy (:mod:`.profiling`). Concurrency: one asyncio loop in the
harness; every child runs its own loop. Every process started is stopped on the way out,
also on errors and on SIGTERM/Ctrl-C. Errors: :mod:`.errors`.
"""

from __future__ import annotations

from bench.picker_overhead.cli import main
from bench.picker_overhead.runner import BenchOptions, BenchRun, run_benchmark

__all__ = ["BenchOptions", "BenchRun", "main", "run_benchmark"]
