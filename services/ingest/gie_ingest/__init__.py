"""gie ingest service: what the outside world says about the pool, as events.

For now the source is a static pool file (see :mod:`gie_ingest.pool_file`),
reconciled into ``EndpointUpserted`` / ``EndpointRemoved`` events on the state
stream. Single asyncio task; the admin app runs on the same loop.
"""
