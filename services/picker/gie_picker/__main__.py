"""Entry point: ``gie-picker`` / ``python -m gie_picker``."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from gie.lifecycle import run_service
from gie_picker.app import run
from gie_picker.settings import PickerSettings


def main() -> int:
    try:
        settings = PickerSettings()
    except ValidationError as exc:
        print(f"gie-picker: invalid settings: {exc}", file=sys.stderr)
        return 2
    return run_service(lambda stop: run(settings, stop))


if __name__ == "__main__":
    sys.exit(main())
