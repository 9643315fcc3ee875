"""``python -m bench.picker_overhead``: run the benchmark, print tables or JSON.

Progress goes to stderr, the result to stdout. Exit status: 0 when the run completed
(whatever the numbers; ``--check`` makes a target NOT MET exit 1), 2 when it could not
run. SIGTERM is handled like Ctrl-C: every process the run started is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from bench.picker_overhead.arms import ARM_NAMES
from bench.picker_overhead.errors import OverheadBenchError
from bench.picker_overhead.machine import describe_machine
from bench.picker_overhead.picker_source import export_revision, pythonpath_of
from bench.picker_overhead.profiling import find_py_spy
from bench.picker_overhead.report import checks_of, render_json, render_markdown
from bench.picker_overhead.runner import BenchOptions, BenchRun, run_benchmark
from gie.telemetry import configure_logging
from gie_cli.devstack import DevstackError

__all__ = ["main"]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def _arms(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in ARM_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"arms are among {', '.join(ARM_NAMES)}")
    return names


def _parser() -> argparse.ArgumentParser:
    defaults = BenchOptions()
    parser = argparse.ArgumentParser(
        prog="python -m bench.picker_overhead",
        description="The picker's added latency and CPU per request through Envoy, "
        "against a bare ext_proc server, with 1 and 4 workers.",
    )
    add = parser.add_argument
    add("--requests", type=_positive, default=defaults.requests, help="measured per arm/round")
    add("--concurrency", type=_positive, default=defaults.concurrency, help="in flight")
    add("--warmup", type=_positive, default=defaults.warmup, help="unmeasured, per arm/round")
    add("--paced-requests", type=int, default=defaults.paced_requests,
        help="then this many at a fixed rate (0: no paced window)")  # fmt: skip
    add("--rate", type=_rate, default=defaults.rate, help="req/s of the paced window")
    add("--idle-seconds", type=float, default=defaults.idle_s,
        help="idle window measuring ext_proc CPU without requests (0: none)")  # fmt: skip
    add("--rounds", type=_positive, default=defaults.rounds, help="arms interleaved per round")
    add("--endpoints", type=_positive, default=defaults.endpoints, help="pool size")
    add("--arms", type=_arms, default=defaults.arms, help=f"subset of {','.join(ARM_NAMES)}")
    add("--picker-rev", help="measure the picker at this git revision (default: installed tree)")
    add("--log-dir", type=Path, help="keep logs and configs here (default: temporary)")
    add("--profile", type=Path, metavar="DIR",
        help="py-spy the ext_proc servers in each saturated window; profiles to DIR")  # fmt: skip
    add("--json", action="store_true", help="print one JSON object instead of tables")
    add("--json-out", type=Path, metavar="FILE", help="also write the JSON object to FILE")
    add("--check", action="store_true", help="exit 1 when a target is NOT MET")
    return parser


async def _run(options: BenchOptions, run_dir: Path) -> BenchRun:
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    if options.profile_dir is not None:
        find_py_spy()  # fail before anything starts
        _progress("profiling with py-spy: CPU numbers of this run include its interference")
    commit, pythonpath = None, ""
    if options.picker_revision is not None:
        source = run_dir / "picker-src"
        commit = await asyncio.to_thread(export_revision, options.picker_revision, source)
        pythonpath = pythonpath_of(source)
        _progress(f"picker sources of {commit} in {source}")
    machine = await asyncio.to_thread(describe_machine, picker_commit=commit)
    return await run_benchmark(
        options,
        run_dir=run_dir,
        machine=machine,
        progress=_progress,
        picker_pythonpath=pythonpath,
    )


def _progress(message: str) -> None:
    print(f"[picker-overhead] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(level="error", fmt="console", service="picker-overhead")
    options = BenchOptions(
        requests=args.requests,
        concurrency=args.concurrency,
        warmup=args.warmup,
        paced_requests=max(0, args.paced_requests),
        rate=args.rate,
        idle_s=max(0.0, args.idle_seconds),
        profile_dir=args.profile,
        rounds=args.rounds,
        endpoints=args.endpoints,
        arms=args.arms,
        picker_revision=args.picker_rev,
        log_dir=args.log_dir,
    )
    run_dir = options.log_dir or Path(tempfile.mkdtemp(prefix="gie-picker-overhead-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    _progress(f"logs in {run_dir}")
    try:
        run = asyncio.run(_run(options, run_dir))
    except (OverheadBenchError, DevstackError) as exc:
        print(f"picker-overhead: {exc}\nlogs kept in {run_dir}", file=sys.stderr)
        return 2
    except (asyncio.CancelledError, KeyboardInterrupt):
        print(f"picker-overhead: stopped; logs kept in {run_dir}", file=sys.stderr)
        return 2
    if options.log_dir is None:
        shutil.rmtree(run_dir, ignore_errors=True)
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(render_json(run), indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(render_json(run), indent=2))
    else:
        print(render_markdown(run))
    unmet = [check for check in checks_of(run) if check.met is False]
    return 1 if args.check and unmet else 0
