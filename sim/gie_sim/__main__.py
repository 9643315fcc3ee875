"""``gie-sim`` / ``python -m gie_sim``: host N simulated model servers in one process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import ValidationError

from gie_sim.cluster import run_servers
from gie_sim.config import SimConfig
from gie_sim.faults import FaultMode, Faults
from gie_sim.process_admin import ProcessAdmin

__all__ = [
    "build_parser",
    "main",
    "parse_listen",
    "parse_ports",
    "remove_ready_file",
    "split_names",
    "write_ready_file",
]

_log = logging.getLogger("gie_sim")
_CLI_TYPES: dict[object, Callable[[str], object]] = {int: int, float: float, str: str}


def parse_ports(values: Sequence[str]) -> list[int]:
    """``["8000", "8001,8002"]`` -> ``[8000, 8001, 8002]``."""
    ports: list[int] = []
    for value in values:
        for raw in value.split(","):
            item = raw.strip()
            if not item:
                continue
            port = int(item)
            if not 0 <= port <= 65535:
                raise ValueError(f"port out of range: {port}")
            ports.append(port)
    return ports


def parse_listen(values: Sequence[str]) -> list[tuple[str, int]]:
    """``["127.0.0.2:8000", "127.0.0.3:8000,[::1]:8000"]`` -> ``[(host, port), ...]``."""
    addresses: list[tuple[str, int]] = []
    for value in values:
        for raw in value.split(","):
            item = raw.strip()
            if not item:
                continue
            host, colon, port_text = item.rpartition(":")
            host = host.removeprefix("[").removesuffix("]")
            if not colon or not host:
                raise ValueError(f"not HOST:PORT: {item!r}")
            try:
                [port] = parse_ports([port_text])
            except ValueError as exc:
                raise ValueError(f"{item!r}: {exc}") from exc
            addresses.append((host, port))
    return addresses


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gie-sim",
        description="Simulated model servers (OpenAI API + vLLM, SGLang or TensorRT-LLM "
        "metrics) in one process.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="Address every --port/--count server binds to."
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--listen",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="Address of one server, with its own host (127.0.0.2:8000); repeatable or "
        "comma-separated; port 0 = ephemeral. Several servers may share a port on "
        "distinct hosts.",
    )
    where.add_argument(
        "--port",
        action="append",
        default=[],
        help="Port of one server; repeatable or comma-separated; 0 = ephemeral.",
    )
    parser.add_argument(
        "--count",
        type=int,
        default=None,
        help="Number of servers on ephemeral ports (1 when no --port is given).",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        default=None,
        help='Once listening, write {"pid", "servers", "model", "models"} JSON here '
        '(atomically), and "kv_events" (sockets per server) when KV events are on.',
    )
    parser.add_argument(
        "--admin",
        default=None,
        metavar="HOST:PORT",
        help="Also serve every server's fault controls here (/sim/servers/...), reachable "
        "while a server refuses connections; port 0 = ephemeral. Written to the ready file.",
    )
    parser.add_argument("--log-level", default="INFO", help="Python logging level.")
    faults = parser.add_argument_group("faults of /metrics (switch at run time: POST /sim/faults)")
    faults.add_argument(
        "--fault",
        choices=[mode.value for mode in FaultMode],
        default=FaultMode.NONE.value,
        help="Initial fault mode of every server's /metrics page.",
    )
    faults.add_argument(
        "--fault-delay-ms",
        type=float,
        default=Faults().delay_ms,
        help="Delay of the 'slow' fault mode.",
    )
    perf = parser.add_argument_group("simulated server (applies to every server)")
    for name, field in SimConfig.model_fields.items():
        perf.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            default=field.default,
            help=field.description,
            **_cli_type(name, field.annotation),
        )
    return parser


def _cli_type(name: str, annotation: object) -> dict[str, Any]:
    if get_origin(annotation) is Literal:
        return {"type": str, "choices": list(get_args(annotation))}
    if annotation == tuple[str, ...]:  # several values, as vLLM's --served-model-name
        return {"type": str, "nargs": "+"}
    kind = _CLI_TYPES.get(annotation)
    if kind is None:  # pragma: no cover - guards future fields
        raise TypeError(f"no CLI type for SimConfig.{name}: {annotation}")
    return {"type": kind}


def split_names(values: Sequence[str]) -> tuple[str, ...]:
    """``["a", "b,c"]`` -> ``("a", "b", "c")``: names given space- or comma-separated."""
    return tuple(name.strip() for value in values for name in value.split(","))


def write_ready_file(
    path: Path,
    servers: Sequence[str],
    models: Sequence[str],
    *,
    admin: str | None = None,
    kv_events: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Write the ready file atomically (temporary file in the same directory + rename).

    ``model`` is the first served name (the one metrics carry), ``models`` all of them;
    ``admin`` the process's admin address, when it serves one; ``kv_events`` (only when
    the servers publish KV events): server -> ``{"events": "tcp://...", "replay":
    "tcp://..." or ""}``.
    """
    payload: dict[str, object] = {
        "pid": os.getpid(),
        "servers": list(servers),
        "model": models[0],
        "models": list(models),
    }
    if admin is not None:
        payload["admin"] = admin
    if kv_events:
        payload["kv_events"] = {server: dict(sockets) for server, sockets in kv_events.items()}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload) + "\n", encoding="utf-8")
    tmp.replace(path)


def remove_ready_file(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


async def _serve(
    config: SimConfig,
    *,
    host: str,
    ports: list[int] | None,
    hosts: list[str] | None,
    count: int | None,
    ready: Path | None,
    faults: Faults,
    admin: tuple[str, int] | None = None,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with run_servers(count, config=config, host=host, ports=ports, hosts=hosts) as servers:
        for server in servers:
            server.faults = faults
        addresses = [server.address for server in servers]
        kv_events = {
            server.address: {
                "events": server.kv_events.address,
                "replay": server.kv_events.replay_address,
            }
            for server in servers
            if server.kv_events.address
        }
        control = ProcessAdmin(servers, host=admin[0], port=admin[1]) if admin else None
        if control is not None:
            await control.start()
        try:
            if ready is not None:
                write_ready_file(
                    ready,
                    addresses,
                    config.served_models,
                    admin=control.address if control else None,
                    kv_events=kv_events,
                )
            print("gie-sim ready: " + " ".join(addresses), flush=True)
            _log.info(
                "ready servers=%s models=%s pid=%d admin=%s",
                ",".join(addresses),
                ",".join(config.served_models),
                os.getpid(),
                control.address if control else "-",
            )
            await stop.wait()
            _log.info("shutting down")
        finally:
            if control is not None:
                await control.stop()
    if ready is not None:
        remove_ready_file(ready)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=str(args.log_level).upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        ports = parse_ports(args.port) or None
    except ValueError as exc:
        parser.error(f"--port: {exc}")
    try:
        listen = parse_listen(args.listen)
    except ValueError as exc:
        parser.error(f"--listen: {exc}")
    hosts = [host for host, _ in listen] or None
    try:
        admins = parse_listen([args.admin]) if args.admin else []
    except ValueError as exc:
        parser.error(f"--admin: {exc}")
    if len(admins) > 1:
        parser.error("--admin takes one HOST:PORT")
    admin = admins[0] if admins else None
    if listen:
        if args.host != parser.get_default("host"):
            parser.error("--host does not apply with --listen (each address names its host)")
        ports = [port for _, port in listen]
    if ports is not None and args.count is not None and args.count != len(ports):
        option = "--listen" if listen else "--port"
        parser.error(f"--count {args.count} does not match the {len(ports)} {option} values")
    if args.count is not None and args.count < 1:
        parser.error("--count must be >= 1")
    try:
        values = {name: getattr(args, name) for name in SimConfig.model_fields}
        values["served_model_name"] = split_names(args.served_model_name)
        config = SimConfig(**values)
        faults = Faults(mode=FaultMode(args.fault), delay_ms=args.fault_delay_ms)
    except ValidationError as exc:
        parser.error(str(exc))
    try:
        asyncio.run(
            _serve(
                config,
                host=args.host,
                ports=ports,
                hosts=hosts,
                count=args.count,
                ready=args.ready_file,
                faults=faults,
                admin=admin,
            )
        )
    except OSError as exc:
        _log.error("cannot start: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
