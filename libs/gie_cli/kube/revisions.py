"""The resourceVersion: one counter for the whole server, bumped by every write.

Like etcd's revision, every create, update and delete of any object takes the next
number, so versions order all changes across kinds. Clients must treat them as
opaque strings; the server parses them back to integers.
"""

from __future__ import annotations

from gie_cli.kube.status import bad_request

__all__ = ["Revisions", "parse_resource_version"]


class Revisions:
    """The global counter. Not thread-safe: used on the server's loop."""

    def __init__(self, current: int = 1) -> None:
        self._current = current

    @property
    def current(self) -> int:
        """The version of the latest write (what a list made now reports)."""
        return self._current

    def next(self) -> int:
        """Take the version of a new write."""
        self._current += 1
        return self._current


def parse_resource_version(text: str, *, what: str = "resourceVersion") -> int:
    """``"42"`` -> 42; anything else is a 400 BadRequest, as a real server answers."""
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        raise bad_request(f'{what}: Invalid value: "{text}": must be a positive integer')
    return int(text)
