"""Entry point: ``python -m bench.ingest_kube``."""

from __future__ import annotations

import sys

from bench.ingest_kube.cli import main

if __name__ == "__main__":
    sys.exit(main())
