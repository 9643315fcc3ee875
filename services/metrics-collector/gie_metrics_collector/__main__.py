"""Entry point: ``gie-metrics-collector`` / ``python -m gie_metrics_collector``."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from gie.lifecycle import run_service
from gie_metrics_collector.app import run
from gie_metrics_collector.settings import CollectorSettings


def main() -> int:
    try:
        settings = CollectorSettings()
    except ValidationError as exc:
        print(f"gie-metrics-collector: invalid settings: {exc}", file=sys.stderr)
        return 2
    return run_service(lambda stop: run(settings, stop))


if __name__ == "__main__":
    sys.exit(main())
