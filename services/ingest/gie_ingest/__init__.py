"""gie ingest service: what the outside world says about the pool, as events.

The source is a static pool file (:mod:`gie_ingest.pool_file`) or the Kubernetes API
(:mod:`gie_ingest.kube`, wired in :mod:`gie_ingest.kube_mode`); either way the desired
state is reconciled (:mod:`gie_ingest.reconciler`) against the state folded from the
stream into ``EndpointUpserted`` / ``EndpointRemoved``, objective and rewrite events.
One asyncio loop; the admin app runs on it too.
"""
