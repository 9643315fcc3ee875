"""Entry point: ``python -m bench.fairness [--quick] [--json]``."""

from __future__ import annotations

import sys

from bench.fairness.cli import main

if __name__ == "__main__":
    sys.exit(main())
