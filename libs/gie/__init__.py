"""gie: shared kernel of the event-sourced Endpoint Picker.

Event models, schemas and subjects (:mod:`gie.events`), their published contract
(:mod:`gie.schemas`: JSON Schemas, the compatibility gate, AsyncAPI), the bus adapters
(:mod:`gie.bus`), the ``PoolView`` projection (:mod:`gie.view`), the prefix index
(:mod:`gie.prefix`), saturation, configuration, telemetry and the flow-control contract
(:mod:`gie.flowcontrol`). Services, the simulator, the benchmarks and the command line
(``gie_cli``, with the local stack) build on the kernel; the kernel imports none of them.
"""
