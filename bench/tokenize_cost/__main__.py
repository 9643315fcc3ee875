"""Entry point: ``python -m bench.tokenize_cost``."""

from __future__ import annotations

import sys

from bench.tokenize_cost.cli import main

if __name__ == "__main__":
    sys.exit(main())
