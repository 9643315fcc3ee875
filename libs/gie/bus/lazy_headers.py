"""Headers of delivered messages parsed only when something reads them.

Every gie message carries CloudEvents headers (about 300 bytes, nine lines), and
nats-py parses the header block of each message it receives into a dict before
handing it over, in Python, line by line: about 17 µs per message, in every
process that follows the events stream (every picker worker follows every other's
routing batches). The bus's own followers never read them. :func:`defer_header_parsing`
makes ``nc`` hand over a :class:`LazyHeaders` mapping instead, which parses the block
on first access with nats-py's own line parser; status messages (flow control, idle
heartbeats, no-responders), which nats-py inspects itself, are parsed as before.

Like :mod:`gie.bus.nats_internals`, this reaches into nats-py's private state
(``Client._process_headers``, ``Client._parse_header_lines``) and does nothing
when it is not as expected (:func:`moved_header_internals` names what moved).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import nats.aio.client as nats_client
from nats.aio.client import Client as NatsClient

_HEAD = b"NATS/1.0"
_LINES_FROM = len(_HEAD) + 2  # past "NATS/1.0\r\n"
_ORIGINAL = "_gie_eager_process_headers"


class LazyHeaders(Mapping[str, str]):
    """A read-only header mapping parsed from its raw block on first use."""

    __slots__ = ("_parse", "_parsed", "_raw")

    def __init__(self, raw: bytes, parse: Callable[[bytes], dict[str, str]]) -> None:
        self._raw = raw
        self._parse = parse
        self._parsed: dict[str, str] | None = None

    def _headers(self) -> dict[str, str]:
        if self._parsed is None:
            self._parsed = self._parse(self._raw)
        return self._parsed

    def __getitem__(self, name: str) -> str:
        return self._headers()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers())

    def __len__(self) -> int:
        return len(self._headers())

    def __bool__(self) -> bool:
        return True  # only made for a block with header lines

    def __repr__(self) -> str:
        return f"LazyHeaders({self._headers()!r})"


def moved_header_internals(nc: NatsClient) -> list[str]:
    """What :func:`defer_header_parsing` needs of nats-py and does not find."""
    moved = []
    if not callable(getattr(nc, "_process_headers", None)):
        moved.append("Client._process_headers")
    if not callable(getattr(type(nc), "_parse_header_lines", None)):
        moved.append("Client._parse_header_lines")
    if getattr(nats_client, "parse_email", None) is not None:
        moved.append("nats.aio.client.parse_email (fast_mail_parser installed)")
    return moved


def defer_header_parsing(nc: NatsClient) -> bool:
    """Make ``nc`` parse the headers of a message with a payload only when they are
    read; True when done (or already done), False when nats-py is not as expected."""
    if getattr(nc, _ORIGINAL, None) is not None:
        return True
    if moved_header_internals(nc):
        return False
    eager: Any = nc._process_headers
    parse: Callable[[bytes], dict[str, str]] = type(nc)._parse_header_lines

    async def process_headers(headers: bytes | None) -> Mapping[str, str] | None:
        # None, a status line ("NATS/1.0 100 ...") or an empty block: as nats-py does it.
        if (
            headers is None
            or len(headers) <= _LINES_FROM + 2
            or headers[len(_HEAD) : len(_HEAD) + 1] != b"\r"
        ):
            return await eager(headers)  # type: ignore[no-any-return]
        return LazyHeaders(bytes(headers[_LINES_FROM:]), parse)

    setattr(nc, _ORIGINAL, eager)
    nc._process_headers = process_headers  # type: ignore[method-assign,assignment]
    return True
