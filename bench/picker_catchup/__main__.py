"""``python -m bench.picker_catchup``: see the package's doc."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import gie
import gie_picker
from bench.picker_catchup.probe import fresh_fold, watch
from bench.picker_catchup.seed import seed
from gie_cli.devstack import find_nats_server, free_ports
from gie_cli.devstack.readiness import local_http_client, probe


def _spawn_nats(store: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    port, monitor = free_ports(2)
    argv = [str(find_nats_server()), "-js", "-sd", str(store), "-a", "127.0.0.1"]
    argv += ["-p", str(port), "-m", str(monitor)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, port, monitor


async def _start_nats(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc, port, monitor = _spawn_nats(store)
    async with local_http_client() as client:
        for _ in range(300):
            if await probe(client, f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true"):
                return proc, f"nats://127.0.0.1:{port}"
            await asyncio.sleep(0.05)
    proc.kill()
    raise RuntimeError("nats-server did not start")


def _compile_gie() -> None:
    """Compile gie's and the picker's modules to bytecode where Python looks for it
    (``__pycache__`` beside them), as installing gie does (pip compiles what it
    installs). In a development checkout gie is installed editable and often run with
    PYTHONDONTWRITEBYTECODE, so each picker would otherwise compile its own modules
    again at start-up: a tenth of a second of CPU that no deployed picker spends."""
    packages = [Path(module.__file__).parent for module in (gie, gie_picker) if module.__file__]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, packages)], check=True)


def _start_picker(nats_url: str, pool: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    admin, grpc = free_ports(2)
    env = dict(
        os.environ,
        GIE_NATS_URL=nats_url,
        GIE_POOL=pool,
        GIE_ADMIN_PORT=str(admin),
        GIE_GRPC_PORT=str(grpc),
        GIE_INSTANCE_ID="bench-catchup",
        GIE_LOG_FORMAT="console",
        GIE_PREFIX_SNAPSHOT_INTERVAL_S="0",
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gie_picker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return proc, admin


def _logged(log: Path, field: str) -> float | None:
    """``field=<number>`` of the picker's "caught up" log line."""
    for line in log.read_text(errors="replace").splitlines():
        if "caught up" in line:
            found = re.search(rf"\b{field}=([0-9.]+)", line)
            return float(found.group(1)) if found else None
    return None


async def main(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="gie-catchup-") as tmp:
        nats, url = await _start_nats(Path(tmp) / "nats")
        try:
            pool = f"bench/catchup-{uuid.uuid4().hex[:8]}"
            seeded = await seed(
                url, pool, endpoints=args.endpoints, routing=args.routing_events, batch=args.batch
            )
            fold = await fresh_fold(
                url, pool, endpoints=args.endpoints, routing=seeded.routing_events
            )
            if not args.compile_at_start:
                _compile_gie()
            results = []
            for _ in range(args.runs):
                started = time.monotonic()
                picker, admin = _start_picker(url, pool, Path(tmp) / "picker.log")
                try:
                    seen = await watch(admin, picker.pid, fold, started, timeout_s=args.timeout_s)
                finally:
                    picker.terminate()
                    picker.wait(timeout=15)
                results.append(
                    {
                        "load_average_1m": os.getloadavg()[0],
                        "ready_s": None if seen.ready_s is None else round(seen.ready_s, 2),
                        "ready_cpu_s": seen.ready_cpu_s,
                        "whole_view_s": None if seen.whole_s is None else round(seen.whole_s, 2),
                        "picker_replay_s": _logged(Path(tmp) / "picker.log", "replay_s"),
                        "picker_cpu_s_at_caught_up": _logged(Path(tmp) / "picker.log", "cpu_s"),
                        "whole_at_ready": seen.whole_at_ready,
                        "view_at_ready": seen.at_ready,
                        "digests_equal": seen.whole_s is not None,
                    }
                )
                if seen.whole_s is None and seen.last_view is not None:
                    print(
                        "picker log tail:\n" + (Path(tmp) / "picker.log").read_text()[-3000:],
                        file=sys.stderr,
                    )
        finally:
            nats.terminate()
            nats.wait(timeout=15)
    return {
        "endpoints": args.endpoints,
        "routing_events": seeded.routing_events,
        "routing_messages": seeded.routing_messages,
        "batch": args.batch,
        "seed_s": round(seeded.seconds, 1),
        "bytecode": "compiled at start" if args.compile_at_start else "precompiled",
        "runs": results,
    }


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.picker_catchup")
    parser.add_argument("--endpoints", type=int, default=5000)
    parser.add_argument("--routing-events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=64, help="routing events per message")
    parser.add_argument("--runs", type=int, default=3, help="pickers started one after another")
    parser.add_argument("--timeout-s", type=float, default=60.0)
    parser.add_argument(
        "--compile-at-start",
        action="store_true",
        help="do not compile gie's modules first: where no bytecode of them is "
        "written (PYTHONDONTWRITEBYTECODE), each picker compiles what it imports",
    )
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(main(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
