"""Entry point: ``gie-flow-controller`` / ``python -m gie_flow_controller``."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from gie.lifecycle import run_service
from gie.tls import CertificateFileError
from gie_flow_controller.app import run
from gie_flow_controller.config_file import load_config_file
from gie_flow_controller.errors import ConfigFileError
from gie_flow_controller.settings import FlowControllerSettings


def main() -> int:
    try:
        settings = FlowControllerSettings()
    except ValidationError as exc:
        print(f"gie-flow-controller: invalid settings: {exc}", file=sys.stderr)
        return 2
    try:
        config = load_config_file(settings.config_file)
    except ConfigFileError as exc:
        print(f"gie-flow-controller: {exc}", file=sys.stderr)
        return 2
    try:
        return run_service(lambda stop: run(settings, stop, config=config))
    except CertificateFileError as exc:
        print(f"gie-flow-controller: TLS certificate unusable: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
