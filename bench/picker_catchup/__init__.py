"""How long a new picker takes to report ready, and whether its view is whole then.

``python -m bench.picker_catchup --endpoints 5000 --routing-events 100000`` starts a
nats-server, stores a pool (one ``EndpointUpserted`` and one metrics scrape per
endpoint) and routing events (``RequestRouted``/``RequestCompleted`` pairs, in batch
messages as pickers publish them), then starts a picker process and polls its
``/readyz`` and ``/debug/view``. It prints when the picker first answered ready,
when its view first held the whole pool and routing history, whether the view at
the first ready answer was already whole, and whether its digests equal those of a
fresh fold of the same streams.
"""
