"""Entry point: ``gie-ingest`` / ``python -m gie_ingest``."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from gie.lifecycle import run_service
from gie_ingest.app import run
from gie_ingest.kube.errors import KubeConfigError
from gie_ingest.pool_file import PoolFileError
from gie_ingest.settings import IngestSettings


def main() -> int:
    try:
        settings = IngestSettings()
    except ValidationError as exc:
        print(f"gie-ingest: invalid settings: {exc}", file=sys.stderr)
        return 2
    try:
        return run_service(lambda stop: run(settings, stop))
    except (PoolFileError, KubeConfigError) as exc:
        print(f"gie-ingest: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
