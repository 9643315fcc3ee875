"""``gie-picker``'s entry point: modules load with the cycle collector off, and
``main`` runs the picker with it on (a picker must still collect cyclic garbage)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc
import gie_picker.__main__ as entry

while_loading = gc.isenabled()
frozen_before = gc.get_freeze_count()
try:
    entry.main(["--help"])
except SystemExit:
    pass
print(while_loading, gc.isenabled(), gc.get_freeze_count() > frozen_before)
"""


def test_modules_load_without_the_collector_and_main_turns_it_on() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # Off while loading; on in main, with what the imports left frozen.
    assert done.stdout.splitlines()[-1].split() == ["False", "True", "True"]
