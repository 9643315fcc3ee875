"""gie metrics-collector service: the measured load of each endpoint, as events.

What it is for: scrape every endpoint of a pool (vLLM, SGLang, Triton TensorRT-LLM),
publish ``EndpointMetricsObserved`` when values change or a heartbeat is due, and
``PoolSaturationChanged`` when the pool's saturation flips, so that pickers never scrape.

How it is put together (one concern per package):

* :mod:`~gie_metrics_collector.fetch` -- keep-alive HTTP/1.1 client for metrics pages;
* :mod:`~gie_metrics_collector.parsing` -- upstream's metric specs, a fast sample finder;
* :mod:`~gie_metrics_collector.signals` -- per-flavour specs, LoRA, the page reader;
* :mod:`~gie_metrics_collector.scrape` -- one loop per endpoint, timing, the supervisor;
* :mod:`~gie_metrics_collector.publish` -- change policy and the metrics publisher;
* :mod:`~gie_metrics_collector.pool` -- saturation assessment and publishing, gauges,
  the ``saturationDetector`` section of ``GIE_CONFIG_FILE``;
* :mod:`~gie_metrics_collector.ha` -- NATS KV membership, rendezvous ownership, the
  feed of peers' metrics;
* :mod:`~gie_metrics_collector.collector` wires them; :mod:`~gie_metrics_collector.app`
  runs them (start-up and shutdown order).

Concurrency model: one asyncio event loop. Each owned endpoint has its own scrape task;
a supervisor starts, stops and restarts them. Publishing goes through a bounded outbox
drained by background tasks, so a scrape never waits for the bus. Membership runs three
small tasks on its own NATS connection; the saturation monitor and the gauges run on
timers. Nothing is shared across threads (the admin app's ``/metrics`` reads only
prometheus-client objects). Errors: :mod:`gie_metrics_collector.errors`.
"""
