"""``python -m bench.ingest_kube``: how long a Pod change in the Kubernetes API takes to
become an endpoint event on NATS, through ingest in Kubernetes mode, and a changed
routing decision of a picker following the same pool.

Real processes on loopback: nats-server, ``gie kube serve`` (no kubelet: the benchmark
writes Pod status itself, as a kubelet would), one ``gie-ingest`` with
``GIE_DISCOVERY=kubernetes`` and one ``gie-picker``. :mod:`.stack` starts them;
:mod:`.probe` makes the changes and times them, asking the picker over ext_proc
(:mod:`.routing`) where a request for the changed Pod goes; :mod:`.cli` prints the
numbers. One asyncio loop.
"""
