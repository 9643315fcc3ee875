"""``gie-picker``'s entry point: what a picker imports before it can answer ready
leaves out the heavy packages it does not use (each was a share of every start-up's
CPU)."""

from __future__ import annotations

import subprocess
import sys


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
