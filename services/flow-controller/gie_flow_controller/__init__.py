"""gie flow-controller: if and when a request may proceed under saturation.

Global flow control across replicas, with its state in Redis:

* ``model/``      flow-control values: snapshots the policies see, records of the state.
* ``policies/``   fairness between flows (round-robin, best-head, virtual-token-fairness)
                  and ordering within a flow (fcfs), one registry; ``choose`` decides.
* ``state/``      the flow state port; Redis adapter (atomic Lua scripts, keys
                  hash-tagged per pool) and the in-memory model with the same contract.
* ``sharding/``   shard leases: a supervisor per replica claims/renews/balances shards,
                  a worker task per owned shard runs the dispatch loop.
* ``gate/``       may a request go now: the saturation rule over its candidate endpoints,
                  from the pool view folded from the event stream.
* ``admission/``  Admit calls (admit, then wait for the outcome from whichever replica
                  decides it) and completions (``RequestCompleted`` settles a dispatch).
* ``api/``        the ``gie.flowcontrol.v1.FlowControl`` gRPC server.
* ``telemetry/``  metrics and the ``flow.*`` events.

Concurrency: one asyncio event loop per process. Redis is the only shared state between
replicas and every change to it is one Lua script, so replicas never coordinate
otherwise. Within a process, the view is fed by the bus callback, each owned shard has
one worker task, each Admit call is one task waiting on a future, and all of them share
the store, the view and the supervisor without locks (no awaits inside their updates).
"""
