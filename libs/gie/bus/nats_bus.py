"""NATS JetStream adapter of the event bus.

One :class:`NatsEventBus` per process holds one connection (reconnecting
forever once connected) and its JetStream context. Streams are set up
idempotently by whichever service starts first. Subscriptions are ordered
ephemeral push consumers: replay (all, or last-per-subject) then follow.
Callbacks run on the connection's event loop, one message at a time per
subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self

import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import BadRequestError, NotFoundError

from gie.bus.ce_headers import CeHeaders
from gie.bus.closing import drain_or_close
from gie.bus.contracts import EventHandler
from gie.bus.delivery import deliver as deliver_payload
from gie.bus.denials import Denials, is_authorization_error
from gie.bus.errors import BusConnectError, BusPublishError, GieBusError
from gie.bus.following_watch import FollowingWatch
from gie.bus.lag import ConsumerLag, ConsumerPosition
from gie.bus.lazy_headers import defer_header_parsing
from gie.bus.metrics import BusMetrics
from gie.bus.nats_internals import (
    answer_flow_control,
    hand_reading_to_gate,
    moved_internals,
    nats_py_version,
    quiet_flow_control,
    reading_transport,
    write_unconfirmed,
)
from gie.bus.own_events import OwnEvents
from gie.bus.read_gate import ReadGate
from gie.bus.snapshots import NatsSnapshotStore
from gie.bus.streams import ALL_STREAMS, Deliver, StreamSpec
from gie.bus.subject_match import subject_matches
from gie.events import Event, EventCodec, default_codec, new_event_id
from gie.security.credentials import CredentialsError, NatsCredentials

_log = structlog.get_logger("gie.bus")

_DELIVER_POLICY = {
    Deliver.ALL: js_api.DeliverPolicy.ALL,
    Deliver.LAST_PER_SUBJECT: js_api.DeliverPolicy.LAST_PER_SUBJECT,
    Deliver.NEW: js_api.DeliverPolicy.NEW,
    Deliver.SINCE: js_api.DeliverPolicy.BY_START_TIME,
    Deliver.FROM_SEQUENCE: js_api.DeliverPolicy.BY_START_SEQUENCE,
}


_MAX_SUBJECTS_REMEMBERED = 10_000
_V1_ACK_TOKENS = 9  # $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>


def delivery_sequences(msg: Msg) -> tuple[int, int, int]:
    """(stream sequence, consumer sequence, pending) from a JetStream delivery's reply
    subject; the common form is read directly, any other through ``msg.metadata``."""
    tokens = msg.reply.split(".")
    if len(tokens) == _V1_ACK_TOKENS and tokens[0] == "$JS" and tokens[1] == "ACK":
        return int(tokens[5]), int(tokens[6]), int(tokens[8])
    meta = msg.metadata
    return meta.sequence.stream, meta.sequence.consumer, meta.num_pending


def _start_config(
    deliver: Deliver, since: datetime | None, start_seq: int | None
) -> js_api.ConsumerConfig | None:
    """The consumer settings a start position needs beyond its delivery policy."""
    if deliver is Deliver.SINCE:
        if since is None:
            raise ValueError("Deliver.SINCE needs a start time")
        return js_api.ConsumerConfig(opt_start_time=since)
    if deliver is Deliver.FROM_SEQUENCE:
        if start_seq is None or start_seq < 1:
            raise ValueError("Deliver.FROM_SEQUENCE needs a start sequence >= 1")
        return js_api.ConsumerConfig(opt_start_seq=start_seq)
    return None


class NatsFollowing:
    """A replay-then-follow subscription on one stream."""

    def __init__(self, stream: StreamSpec, lag: ConsumerLag, filter_subject: str = "") -> None:
        self._stream = stream
        self._filter = filter_subject
        self._lag = lag
        self._lag_position = lag.position(stream.name)
        self._sub: JetStreamContext.PushSubscription | None = None
        self._caught_up = asyncio.Event()
        self._delivered = 0
        self._target: int | None = None
        self._position = 0
        self._quiet = False
        self.stale_since: float | None = None  # when its consumer was found gone
        # Subscribes again from the given stream sequence (0: as at the start).
        self.resubscribe: Callable[[int], Awaitable[JetStreamContext.PushSubscription]] | None
        self.resubscribe = None
        self._nc: NatsClient | None = None
        self._stopped = False
        self._restarting = asyncio.Lock()  # the watch's heal and a reconnect may overlap
        self.on_stop: Callable[[NatsFollowing], None] | None = None  # the bus forgets it

    @property
    def stream_name(self) -> str:
        return self._stream.name

    @property
    def description(self) -> str:
        return f"{self._filter} on {self._stream.name}"

    @property
    def caught_up(self) -> asyncio.Event:
        return self._caught_up

    @property
    def position(self) -> int:
        return self._position

    @property
    def lag_position(self) -> ConsumerPosition:
        return self._lag_position

    def note_delivered(self, stream_seq: int, consumer_seq: int, pending: int) -> None:
        """A delivery was handled (its :func:`delivery_sequences`)."""
        self._delivered = consumer_seq
        self._position = stream_seq
        if pending == 0 or (self._target is not None and self._delivered >= self._target):
            self._caught_up.set()

    async def consumer_alive(self) -> bool:
        """Whether the server still has this following's consumer."""
        sub = self._sub
        if sub is None:
            # Stopped: nothing to watch. Otherwise a restart failed between dropping the
            # old consumer and making the new one: gone, so the watch tries again.
            return self._stopped
        try:
            await sub.consumer_info()
        except (NatsError, NotFoundError):
            return False
        return True

    async def restart(self) -> None:
        """Subscribe again from the stream sequence after the last one applied."""
        async with self._restarting:
            if self._stopped or self.resubscribe is None or self._nc is None:
                return
            old, self._sub = self._sub, None
            if old is not None:
                try:
                    await old.unsubscribe()
                except NatsError as exc:
                    _log.info("unsubscribing a gone consumer failed", error=str(exc))
            if self._position and await self._stream_made_again(self._nc):
                _log.warning(
                    "event stream was made again; following it from its start",
                    stream=self._stream.name,
                    applied_up_to=self._position,
                )
                self._position = 0
            sub = await self.resubscribe(self._position + 1 if self._position else 0)
            if self._stopped:  # stopped while subscribing
                with contextlib.suppress(NatsError):
                    await sub.unsubscribe()
                return
            await self.start(sub, self._nc)

    async def _stream_made_again(self, nc: NatsClient) -> bool:
        """Whether the stream now ends before what was applied: deleted and made again
        (its sequence restarted at 1), so following on from there would skip it all."""
        info = await nc.jetstream().stream_info(self._stream.name)
        return info.state.last_seq < self._position

    async def start(self, sub: JetStreamContext.PushSubscription, nc: NatsClient) -> None:
        self._sub = sub
        self._nc = nc
        self._quiet = quiet_flow_control(sub)
        self.answer_flow_control(nc)  # one may have been waiting for the cancelled task
        info = await sub.consumer_info()
        if info.num_pending == 0:
            # Everything stored was already sent: caught up once the handler
            # has seen as many messages as the consumer delivered.
            self._target = info.delivered.consumer_seq if info.delivered else 0
            if self._delivered >= (self._target or 0):
                self._caught_up.set()

    def answer_flow_control(self, nc: NatsClient) -> None:
        """After a delivery: the flow-control answer nats-py's polling task would send."""
        if self._quiet and self._sub is not None:
            answer_flow_control(nc, self._sub)

    async def stop(self) -> None:
        self._stopped = True
        self.resubscribe = None  # a reconnect must not bring it back
        if self.on_stop is not None:
            self.on_stop(self)
            self.on_stop = None
        self._lag.forget(self._lag_position)
        sub, self._sub = self._sub, None
        if sub is None:
            return
        try:
            await sub.unsubscribe()
        except NatsError as exc:
            _log.warning("unsubscribe failed", stream=self._stream.name, error=str(exc))


class NatsEventBus:
    """Event bus on NATS JetStream. Use as an async context manager."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        codec: EventCodec | None = None,
        metrics: BusMetrics | None = None,
        connect_timeout_s: float = 30.0,
        publish_timeout_s: float = 5.0,
        stream_replicas: int = 1,
        ce_source: str | None = None,
        following_check_s: float = 2.0,
        following_heal_s: float = 5.0,
        credentials: NatsCredentials | None = None,
    ) -> None:
        self._url = url
        self._credentials = credentials or NatsCredentials()
        self._ce = CeHeaders(ce_source or f"/gie/{name}")
        self._stream_replicas = stream_replicas
        self._name = name
        self._codec = codec or default_codec()
        self._metrics = metrics or BusMetrics()
        self._denials = Denials(self._metrics, user=self._credentials.user)
        self._last_error: BaseException | None = None  # what nats-py reported last
        self._connect_timeout_s = connect_timeout_s
        self._publish_timeout_s = publish_timeout_s
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._followings: list[NatsFollowing] = []
        self._watch = FollowingWatch(
            lambda: self._followings,
            lambda: self.connected,
            self._metrics,
            check_interval_s=following_check_s,
            heal_after_s=following_heal_s,
        )
        self._gate: ReadGate | None = None
        self._own = OwnEvents()  # published here, not yet back from the stream
        self._follow_filters: list[str] = []
        self._echoed: dict[str, bool] = {}  # subject -> a following receives it

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def connect(self) -> None:
        """Connect, retrying with backoff until ``connect_timeout_s`` passes."""
        deadline = time.monotonic() + self._connect_timeout_s
        delay = 0.1
        while True:
            try:
                options = self._credentials.connect_options()
            except CredentialsError as exc:
                raise BusConnectError(f"cannot connect to NATS at {self._url}: {exc}") from exc
            nc = NatsClient()
            try:
                # nats-py retries a first connection forever by itself (reconnecting is
                # unlimited): the deadline is kept here, and the client closed at it.
                await asyncio.wait_for(
                    nc.connect(
                        servers=[self._url],
                        **options,
                        name=self._name,
                        connect_timeout=2,
                        max_reconnect_attempts=-1,
                        reconnect_time_wait=0.5,  # type: ignore[arg-type]  # a float works
                        error_cb=self._on_error,
                        disconnected_cb=self._on_disconnected,
                        reconnected_cb=self._on_reconnected,
                    ),
                    max(deadline - time.monotonic(), 0.1),
                )
                self._nc = nc
                break
            except (NatsError, OSError, TimeoutError) as exc:
                with contextlib.suppress(NatsError, OSError, TimeoutError):
                    await nc.close()
                refused = is_authorization_error(exc) or self._denials.credentials_refused
                if time.monotonic() + delay > deadline:
                    cause = (self._last_error if isinstance(exc, TimeoutError) else exc) or exc
                    waited = f"{cause!r} (waited {self._connect_timeout_s:g} s)"
                    if refused:
                        raise BusConnectError(
                            f"NATS at {self._url} refused the credentials of user "
                            f"{self._credentials.user!r}: {waited}"
                        ) from exc
                    raise BusConnectError(f"cannot reach NATS at {self._url}: {waited}") from exc
                if not refused:
                    _log.info("waiting for NATS", url=self._url, error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        self._denials.connected()
        self._js = self._nc.jetstream(timeout=self._publish_timeout_s)
        defer_header_parsing(self._nc)  # followers read payloads, never headers
        _log.info("connected to NATS", url=self._url, client=self._name)
        moved = moved_internals(self._nc)
        if moved:
            _log.warning(
                "nats-py internals moved: their shortcuts are off, its public paths do the work",
                internals=moved,
                nats_py=nats_py_version(),
            )

    async def ensure_streams(self, specs: tuple[StreamSpec, ...] = ALL_STREAMS) -> None:
        """Create the streams, or update them to ``specs``; safe from many processes.

        Each stream gets ``stream_replicas`` copies (R3 survives the loss of one node of a
        3-node cluster); more replicas than the cluster has nodes is an error naming the
        stream."""
        js = self._jetstream()
        for spec in specs:
            config = js_api.StreamConfig(
                name=spec.name,
                subjects=list(spec.subjects),
                retention=js_api.RetentionPolicy.LIMITS,
                storage=js_api.StorageType.FILE,
                discard=js_api.DiscardPolicy.OLD,
                max_msgs_per_subject=spec.max_msgs_per_subject,
                max_age=spec.max_age_s or None,
                max_bytes=spec.max_bytes,
                duplicate_window=spec.duplicate_window_s,
                num_replicas=self._stream_replicas,
            )
            try:
                await self._create_or_update(js, config)
            except NatsError as exc:
                raise GieBusError(
                    f"cannot set up stream {spec.name} ({self._stream_replicas} replicas): {exc}"
                ) from exc

    @staticmethod
    async def _create_or_update(js: JetStreamContext, config: js_api.StreamConfig) -> None:
        try:
            await js.add_stream(config)
        except BadRequestError as refused:
            # Exists with another configuration (or raced): converge on ours. When it
            # does not exist, the refusal had another cause (its subjects overlap
            # another stream's, say): that is the error to report.
            try:
                await js.update_stream(config)
            except NotFoundError:
                raise refused from None

    async def publish(
        self,
        subject: str,
        event: Event,
        *,
        msg_id: str | None = None,
        confirm: bool = True,
        traceparent: str | None = None,
    ) -> None:
        js = self._jetstream()
        payload = self._codec.encode(event)
        self._denials.seen(subject)
        # ce-id is the Nats-Msg-Id: the caller's deterministic id, else the event id.
        headers = self._ce.mapping(
            subject, event, msg_id=msg_id or event.event_id, traceparent=traceparent
        )
        try:
            if confirm:
                await js.publish(subject, payload, headers=headers)
            else:  # the stream still stores it; we just do not wait for the ack
                assert self._nc is not None
                await self._nc.publish(subject, payload, headers=headers)
        except (NatsError, TimeoutError) as exc:
            self._metrics.publish_errors.labels(event.type).inc()
            raise BusPublishError(f"{event.type} not stored on {subject}: {exc!r}") from exc
        self._metrics.published_of(event.type).inc()

    def publish_nowait(self, subject: str, event: Event, *, traceparent: str | None = None) -> bool:
        """Hand ``event`` to the connection unconfirmed, right now, as
        ``publish(confirm=False)`` would; False when it cannot be done synchronously
        (not connected, write buffer full): then nothing was sent or counted."""
        if self._nc is None:
            return False
        payload = self._codec.encode(event)
        headers = self._ce.block(subject, event, msg_id=event.event_id, traceparent=traceparent)
        if not write_unconfirmed(self._nc, subject, payload, headers):
            return False
        if self._comes_back(subject):
            self._own.remember(payload, (event,))
        self._metrics.published_of(event.type).inc()
        return True

    def publish_batch_nowait(self, subject: str, events: Sequence[Event]) -> bool:
        """``events`` as one batch message, as ``publish_nowait`` hands one over."""
        if self._nc is None:
            return False
        if not events:
            return True
        payload = self._codec.encode_batch(events)
        headers = self._ce.batch_block(subject, events, msg_id=new_event_id())
        if not write_unconfirmed(self._nc, subject, payload, headers):
            return False
        if self._comes_back(subject):
            self._own.remember(payload, events)
        for event in events:
            self._metrics.published_of(event.type).inc()
        return True

    async def follow(
        self,
        stream: StreamSpec,
        filter_subject: str,
        handler: EventHandler,
        *,
        deliver: Deliver,
        since: datetime | None = None,
        start_seq: int | None = None,
    ) -> NatsFollowing:
        self._jetstream()  # connected, or a clear error
        config = _start_config(deliver, since, start_seq)
        following = NatsFollowing(stream, self._metrics.lag, filter_subject)
        nc = self._nc
        assert nc is not None  # connected: _jetstream() said so

        async def on_msg(msg: Msg) -> None:
            sequences = delivery_sequences(msg)
            await deliver_payload(
                msg.data,
                subject=msg.subject,
                stream=stream.name,
                codec=self._codec,
                handler=handler,
                metrics=self._metrics,
                decoded=self._own.take(msg.data),
                position=following.lag_position,
                pending=sequences[2],
            )
            following.note_delivered(*sequences)
            following.answer_flow_control(nc)

        async def subscribe(
            policy: Deliver, config: js_api.ConsumerConfig | None
        ) -> JetStreamContext.PushSubscription:
            sub = await self._jetstream().subscribe(
                filter_subject,
                stream=stream.name,
                cb=on_msg,
                ordered_consumer=True,
                idle_heartbeat=2.0,
                deliver_policy=_DELIVER_POLICY[policy],
                config=config,
            )
            if config is not None:
                # nats-py keeps this config for the consumer it recreates after a gap
                # or a server restart, from the next stream sequence: a start time left
                # in it makes the server refuse every recreation (err_code 10094) and
                # the following freezes.
                config.opt_start_time = None
            return sub

        async def resubscribe(from_seq: int) -> JetStreamContext.PushSubscription:
            if from_seq:
                return await subscribe(
                    Deliver.FROM_SEQUENCE, js_api.ConsumerConfig(opt_start_seq=from_seq)
                )
            return await subscribe(deliver, _start_config(deliver, since, start_seq))

        following.resubscribe = resubscribe
        try:
            await following.start(await subscribe(deliver, config), nc)
        except (NatsError, NotFoundError) as exc:
            await following.stop()
            raise GieBusError(f"cannot follow {filter_subject} on {stream.name}: {exc}") from exc
        self._followings.append(following)
        self._watch.start()
        self._follow_filters.append(filter_subject)
        self._echoed.clear()
        following.on_stop = self._forget_following
        return following

    def _forget_following(self, following: NatsFollowing) -> None:
        """A stopped following leaves the bus: no heal, no resumption, no leak."""
        with contextlib.suppress(ValueError):
            index = self._followings.index(following)
            del self._followings[index]
            del self._follow_filters[index]
        self._echoed.clear()

    def stale_followings(self, longer_than_s: float) -> str | None:
        """Readiness: which followings have had no consumer on the server for longer
        than ``longer_than_s`` (see :mod:`gie.bus.following_watch`); None when none."""
        return self._watch.stale(longer_than_s)

    async def check_followings(self) -> None:
        """One round of the following watch now (tests, diagnostics)."""
        await self._watch.check_once()

    def _comes_back(self, subject: str) -> bool:
        """Whether one of this bus's followings receives what is published on ``subject``."""
        known = self._echoed.get(subject)
        if known is None:
            if len(self._echoed) >= _MAX_SUBJECTS_REMEMBERED:
                self._echoed.clear()
            known = any(subject_matches(f, subject) for f in self._follow_filters)
            self._denials.seen(subject)
            self._echoed[subject] = known
        return known

    def read_in_bursts(self, max_delay_s: float) -> ReadGate:
        """From now on read the connection only when the returned gate is poked, or
        every ``max_delay_s`` (see :mod:`gie.bus.read_gate`); for a process that is
        awake often anyway and follows a busy stream."""
        if self._gate is None:
            self._gate = ReadGate(self._gated_transport, max_delay_s=max_delay_s)
            self._gate.start()
        return self._gate

    def _gated_transport(self) -> asyncio.ReadTransport | None:
        # Every time: a reconnect brings a new reader, whose own flow control would
        # undo the gate's pauses.
        hand_reading_to_gate(self._nc)
        return reading_transport(self._nc)

    def snapshots(self) -> NatsSnapshotStore:
        """The object store that keeps projection snapshots."""
        return NatsSnapshotStore(self._jetstream())

    async def close(self) -> None:
        """Stop subscriptions, then drain and close the connection."""
        if self._gate is not None:
            self._gate.stop()
        await self._watch.stop()
        for following in list(self._followings):
            await following.stop()
        self._followings.clear()
        self._follow_filters.clear()
        self._echoed.clear()
        nc, self._nc, self._js = self._nc, None, None
        await drain_or_close(nc)

    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise GieBusError("bus is not connected")
        return self._js

    async def _on_error(self, exc: Exception) -> None:
        self._last_error = exc
        if self._denials.observe(exc):
            return
        if is_authorization_error(exc):
            self._denials.refused_credentials(exc, url=self._url)
            return
        _log.warning("NATS error", error=str(exc))

    async def _on_disconnected(self) -> None:
        _log.warning("disconnected from NATS", url=self._url)

    async def _on_reconnected(self) -> None:
        self._denials.connected()
        _log.info("reconnected to NATS", url=self._url)
        if self._followings:  # re-created now, not once nats-py misses heartbeats
            self._watch.resume_all()
