"""Entry point: ``gie-metrics-collector`` / ``python -m gie_metrics_collector``."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from gie.lifecycle import run_service
from gie_metrics_collector.app import run
from gie_metrics_collector.errors import ConfigFileError
from gie_metrics_collector.pool import load_saturation_config
from gie_metrics_collector.settings import CollectorSettings


def main() -> int:
    try:
        settings = CollectorSettings()
        saturation = load_saturation_config(settings.config_file)
    except ValidationError as exc:
        print(f"gie-metrics-collector: invalid settings: {exc}", file=sys.stderr)
        return 2
    except ConfigFileError as exc:
        print(f"gie-metrics-collector: {exc}", file=sys.stderr)
        return 2
    return run_service(lambda stop: run(settings, stop, saturation=saturation))


if __name__ == "__main__":
    sys.exit(main())
