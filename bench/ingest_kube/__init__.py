"""``python -m bench.ingest_kube``: how long a Pod change in the Kubernetes API takes to
become an endpoint event on NATS, through ingest in Kubernetes mode.

Real processes on loopback: nats-server, ``gie kube serve`` (no kubelet: the benchmark
writes Pod status itself, as a kubelet would) and one ``gie-ingest`` with
``GIE_DISCOVERY=kubernetes``. :mod:`.stack` starts them; :mod:`.probe` makes the
changes and times them; :mod:`.cli` prints the numbers. One asyncio loop.
"""
