"""Entry point: ``python -m bench.faults [--quick] [--json] [--only NAME,...]``."""

from __future__ import annotations

import sys

from bench.faults.cli import main

if __name__ == "__main__":
    sys.exit(main())
