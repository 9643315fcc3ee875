"""Entry point: ``python -m bench.collector_scale``."""

from __future__ import annotations

import sys

from bench.collector_scale.cli import main

if __name__ == "__main__":
    sys.exit(main())
