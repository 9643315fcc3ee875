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


def test_every_certificate_name_of_gie_tls_loads_on_first_use() -> None:
    # gie.tls names the certificate helpers it loads lazily; a helper added to
    # gie.tls.certificates but not to that list (or renamed there) would be missing
    # from gie.tls, or fail only when first used.
    script = (
        "import sys, gie.tls\n"
        "assert 'gie.tls.certificates' not in sys.modules\n"
        "from gie.tls import certificates\n"
        "lazy = sorted(gie.tls._CERTIFICATES)\n"
        "assert lazy == sorted(certificates.__all__), (lazy, certificates.__all__)\n"
        "assert set(lazy) <= set(gie.tls.__all__), set(lazy) - set(gie.tls.__all__)\n"
        "assert all(getattr(gie.tls, n) is getattr(certificates, n) for n in lazy)\n"
        "print(len(lazy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) >= 7
