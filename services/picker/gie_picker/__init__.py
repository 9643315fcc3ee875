"""gie picker service: where each request goes.

Envoy calls it over ext_proc (:mod:`gie_picker.extproc`); it decides from a
:class:`gie.view.PoolView` folded from the state stream and publishes
``RequestRouted`` off the hot path. One asyncio loop per process: the bus
callback, the gRPC streams and the admin app share it.

Layout, by concern:

* :mod:`~gie_picker.extproc`: the ext_proc servicer and the per-request conversation;
* :mod:`~gie_picker.requestcontrol`: parsing a request, the director (admission,
  scheduling, routing and completion events), the usage in the response;
* :mod:`~gie_picker.admission`: shedding under saturation, the flow-control gate;
* :mod:`~gie_picker.scheduling`: filters, scorers and pickers choosing the endpoints;
* :mod:`~gie_picker.projections`: what is folded from the event stream, and how it is read;
* :mod:`~gie_picker.prefixcache`: the shared prefix index and its snapshots;
* :mod:`~gie_picker.config`: the EndpointPickerConfig;
* :mod:`~gie_picker.telemetry`: metrics and ``/debug/view``;
* :mod:`~gie_picker.server`: the gRPC server, its health service, ``--workers``;
* ``app`` (one process's run), ``wiring`` (parts built from the settings),
  ``settings`` (``GIE_*``) and ``__main__`` at the root.
"""
