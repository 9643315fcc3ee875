"""Event-to-index lag of precise prefix routing: ``python -m bench.kv_lag``.

A fake model server publishes vLLM KV events at a fixed block rate over ZMQ; a real
metrics-collector process follows it and republishes ``Kv*`` events on a real
nats-server; this process folds them into a :class:`~gie.prefix.PreciseIndex`, as a
picker does, and times each batch from its send to its arrival in the index.
"""
