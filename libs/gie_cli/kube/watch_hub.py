"""Fan-out of changes to the open watches.

A watch subscribes to one resource (optionally one namespace) and receives every later
change in order through its own queue; selectors are applied by the watch stream,
which also needs the object's previous state to turn "no longer matches" into DELETED.
A watch that falls more than ``backlog`` changes behind is cut off (its stream ends and
the client resumes from the last version it saw), as the real server drops a slow
watcher rather than buffer without bound.

Concurrency: :meth:`WatchHub.publish` is called by the store on the server's loop,
synchronously within the write, so a watch opened in the same loop step as a snapshot
misses nothing and sees nothing twice.
"""

from __future__ import annotations

import asyncio

from gie_cli.kube.history import Change

__all__ = ["Subscription", "WatchHub"]


class Subscription:
    """One watch's queue of changes; ``None`` marks the end (cut off or server stop)."""

    def __init__(self, key: tuple[str, str], namespace: str | None, backlog: int) -> None:
        self.key = key
        self.namespace = namespace
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue()
        self._backlog = backlog
        self.closed = False

    def wants(self, change: Change) -> bool:
        return change.key == self.key and self.namespace in (None, change.namespace)

    def deliver(self, change: Change) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= self._backlog:
            self.close()
            return
        self.queue.put_nowait(change)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


class WatchHub:
    """The open watches. Not thread-safe: used on the server's loop."""

    def __init__(self, *, backlog: int = 10_000) -> None:
        self._subscriptions: set[Subscription] = set()
        self._backlog = backlog

    def subscribe(self, key: tuple[str, str], namespace: str | None) -> Subscription:
        subscription = Subscription(key, namespace, self._backlog)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, change: Change) -> None:
        for subscription in self._subscriptions:
            if subscription.wants(change):
                subscription.deliver(change)

    def close_all(self) -> None:
        """End every watch (the server is stopping)."""
        for subscription in self._subscriptions:
            subscription.close()
        self._subscriptions.clear()

    def __len__(self) -> int:
        return len(self._subscriptions)
