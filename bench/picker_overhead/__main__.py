"""Entry point: ``python -m bench.picker_overhead`` (run from the repository root)."""

from __future__ import annotations

import sys

from bench.picker_overhead.cli import main

if __name__ == "__main__":
    sys.exit(main())
