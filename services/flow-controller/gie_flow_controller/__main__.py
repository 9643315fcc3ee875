"""Entry point: ``gie-flow-controller`` / ``python -m gie_flow_controller``."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from gie.lifecycle import run_service
from gie_flow_controller.app import run
from gie_flow_controller.settings import FlowControllerSettings


def main() -> int:
    try:
        settings = FlowControllerSettings()
    except ValidationError as exc:
        print(f"gie-flow-controller: invalid settings: {exc}", file=sys.stderr)
        return 2
    return run_service(lambda stop: run(settings, stop))


if __name__ == "__main__":
    sys.exit(main())
