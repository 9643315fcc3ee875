"""Entry point: ``python -m bench.kv_lag``."""

from __future__ import annotations

import sys

from bench.kv_lag.cli import main

if __name__ == "__main__":
    sys.exit(main())
