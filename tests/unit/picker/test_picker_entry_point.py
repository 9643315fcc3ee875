"""``gie-picker``'s entry point: modules load with the cycle collector off, and
``main`` runs the picker with it on (a picker must still collect cyclic garbage); and
what a picker imports before it can answer ready leaves out the heavy packages it
does not use (each was a share of every start-up's CPU)."""

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


def test_the_picker_loads_without_fastapi_aiohttp_or_cryptography() -> None:
    # FastAPI: the admin app is Starlette's; aiohttp: nats-py's WebSocket transport
    # only, loaded at its first use; cryptography: TLS certificates, when configured.
    script = (
        "import sys, gie_picker.__main__\n"
        "print(*(name in sys.modules for name in ('fastapi', 'aiohttp', 'cryptography')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False", "False"]
