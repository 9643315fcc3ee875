"""Collector scale benchmark: many simulated endpoints scraped every 50 ms.

``python -m bench.collector_scale`` starts a NATS server, simulated model servers (in a
few processes), and one metrics-collector process; publishes the endpoints as ingest
would; then, in a measurement window, it

* reads the collector's CPU time from ``/proc/<pid>/stat`` and its scrape count from its
  ``/metrics``: CPU per 1,000 scrapes/s;
* changes a metric on a random simulator ten times a second (``POST /sim/overrides``) and
  times how long until a picker's view (a ``PoolView`` folded from the bus in this
  process) shows it: lag p50/p99;
* counts the events on the bus (idle pools should cost one event per heartbeat).

It also times the collector's page reader against prometheus-client's parser
(:mod:`~bench.collector_scale.parser_speed`). Everything runs on this machine, on
127.0.0.1; processes are the benchmark's own children and are stopped by pid.
"""
