"""gie flow-controller service: if and when a request may proceed under saturation.

Skeleton stage: connects to NATS and Redis and reports their health. Queues,
priority bands and fairness arrive with the flow-control feature.
"""
