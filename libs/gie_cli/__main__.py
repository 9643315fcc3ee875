"""``python -m gie_cli``: the same as the ``gie`` console script."""

from __future__ import annotations

from gie_cli.app import main

main()
