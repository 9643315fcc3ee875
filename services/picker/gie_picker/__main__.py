"""Entry point: ``gie-picker`` / ``python -m gie_picker``."""

from __future__ import annotations

import argparse
import os
import sys

from pydantic import ValidationError

from gie.lifecycle import run_service
from gie.telemetry import configure_logging
from gie.tls import CertificateFileError
from gie_picker.app import run
from gie_picker.config import ConfigError
from gie_picker.server.workers import prepare_worker_tls, supervise
from gie_picker.settings import PickerSettings
from gie_picker.wiring import load_picker_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gie-picker", description="gie Endpoint Picker.")
    parser.add_argument(
        "--workers", type=int, help="processes sharing the ext_proc port (GIE_WORKERS)"
    )
    args = parser.parse_args(argv)
    if args.workers is not None:
        os.environ["GIE_WORKERS"] = str(args.workers)
    try:
        settings = PickerSettings()
    except ValidationError as exc:
        print(f"gie-picker: invalid settings: {exc}", file=sys.stderr)
        return 2
    try:
        load_picker_config(settings)  # fail fast, before any worker starts
    except ConfigError as exc:
        print(f"gie-picker: invalid EndpointPickerConfig {settings.config_file}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    try:
        if settings.workers > 1:
            configure_logging(level=settings.log_level, fmt=settings.log_format, service="picker")
            return supervise(prepare_worker_tls(settings))
        return run_service(lambda stop: run(settings, stop))
    except CertificateFileError as exc:
        print(f"gie-picker: TLS certificate unusable: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
