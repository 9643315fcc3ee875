"""gie metrics-collector service: the measured load of each endpoint, as events.

Follows endpoint membership from the state stream, scrapes every endpoint's
Prometheus page in its own asyncio task, and publishes
``EndpointMetricsObserved`` when values change or a heartbeat is due.
"""
