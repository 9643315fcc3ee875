"""The columns of ``kubectl get pods``, computed as the API server's pod printer does:
NAME READY STATUS RESTARTS AGE, and for ``-o wide`` IP NODE NOMINATED NODE READINESS GATES."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gie_cli.kube.durations import since
from gie_cli.kube.objects import Obj, parse_time

__all__ = ["POD_COLUMNS", "pod_row"]


def _column(name: str, description: str, priority: int = 0) -> dict[str, Any]:
    column: dict[str, Any] = {
        "name": name,
        "type": "string",
        "format": "",
        "description": description,
        "priority": priority,
    }
    return column


POD_COLUMNS = [
    {**_column("Name", "Name must be unique within a namespace."), "format": "name"},
    _column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    _column("Status", "The aggregate status of the containers in this pod."),
    _column(
        "Restarts",
        "The number of times the containers in this pod have been restarted and when the "
        "last container in this pod has restarted.",
    ),
    _column(
        "Age",
        "CreationTimestamp is a timestamp representing the server time when this object "
        "was created.",
    ),
    _column("IP", "podIP address allocated to the pod.", 1),
    _column("Node", "NodeName indicates in which node this pod is scheduled.", 1),
    _column(
        "Nominated Node",
        "nominatedNodeName is set only when this pod preempts other pods on the node.",
        1,
    ),
    _column(
        "Readiness Gates",
        "If specified, all readiness gates will be evaluated for pod readiness.",
        1,
    ),
]


def _restartable(container: Obj | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"  # type: ignore[union-attr]


def _later(current: str, candidate: str | None) -> str:
    if not candidate:
        return current
    if not current:
        return candidate
    a, b = parse_time(current), parse_time(candidate)
    return candidate if a is not None and b is not None and b > a else current


def _init_reason(pod: Obj, reason: str) -> tuple[str, bool, int, str, int]:
    """(reason, initializing, restarts of sidecars, their last restart, ready sidecars)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    count = len(spec.get("initContainers") or [])
    restarts, last, ready = 0, "", 0
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        sidecar = _restartable(init_specs.get(container.get("name")))
        if sidecar:
            restarts += int(container.get("restartCount", 0))
            last = _later(
                last, ((container.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
            )
        if terminated and terminated.get("exitCode", 0) == 0:
            continue
        if sidecar and container.get("started"):
            ready += 1 if container.get("ready") else 0
            continue
        if terminated:
            if terminated.get("reason"):
                reason = "Init:" + terminated["reason"]
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode', 0)}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{count}"
        return reason, True, restarts, last, ready
    return reason, False, restarts, last, ready


def _condition_true(status: Obj, kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True" for c in status.get("conditions") or []
    )


def pod_row(pod: Obj, now: datetime) -> list[Any]:
    spec, status, metadata = pod.get("spec") or {}, pod.get("status") or {}, pod["metadata"]
    phase = status.get("phase", "")
    reason = status.get("reason") or phase
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    total = len(spec.get("containers") or []) + sum(
        1 for c in spec.get("initContainers") or [] if _restartable(c)
    )
    reason, initializing, restarts, last, ready = _init_reason(pod, reason)
    if not initializing or _condition_true(status, "Initialized"):
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += int(container.get("restartCount", 0))
            last = _later(
                last, ((container.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
            )
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting") or {}, state.get("terminated")
            if waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                signal = terminated.get("signal")
                reason = (
                    f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode', 0)}"
                )
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status, "Ready") else "NotReady"
    if metadata.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    shown_restarts = str(restarts)
    if restarts and last:
        shown_restarts = f"{restarts} ({since(last, now)} ago)"
    pod_ips = status.get("podIPs") or []
    ip = (pod_ips[0].get("ip") if pod_ips else "") or "<none>"
    gates = spec.get("readinessGates") or []
    gates_shown = "<none>"
    if gates:
        true = sum(1 for gate in gates if _condition_true(status, gate.get("conditionType", "")))
        gates_shown = f"{true}/{len(gates)}"
    return [
        metadata["name"],
        f"{ready}/{total}",
        reason,
        shown_restarts,
        since(metadata.get("creationTimestamp"), now),
        ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_shown,
    ]


def pod_row_conditions(pod: Obj) -> list[Obj] | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    if phase == "Failed":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Failed",
                "message": "The pod failed.",
            }
        ]
    return None
