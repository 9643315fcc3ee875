"""``python -m gie.cli``: the same as the ``gie`` console script."""

from __future__ import annotations

from gie.cli.app import main

main()
