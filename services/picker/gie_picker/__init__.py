"""gie picker service: where each request goes.

Envoy calls it over ext_proc (:mod:`gie_picker.extproc`); it decides from a
:class:`gie.view.PoolView` folded from the state stream and publishes
``RequestRouted`` off the hot path. One asyncio loop per process: the bus
callback, the gRPC streams and the admin app share it.
"""
