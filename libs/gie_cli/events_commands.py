"""``gie events tail``: print gie's events as the stream holds them."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape

from gie.consume import GieConsumeError, RawEvent, TailedEvent, parse_since, tail
from gie.consume.subscribe import EVENTS_STREAM
from gie.security import READER, NatsCredentials
from gie_cli.devstack import DevstackError, StateStore, default_state_dir
from gie_cli.runtime import EXIT_FAILED, err_console, run_command

__all__ = ["events_app"]

NATS_URL_ENV = "GIE_NATS_URL"
_SKIPPED_FIELDS = frozenset(
    {"event_id", "type", "schema_version", "occurred_at", "source", "pool", "correlation_id"}
)
_LONG_FIELDS = frozenset({"block_hashes"})

events_app = typer.Typer(
    name="events",
    help="gie's events on NATS: routing decisions, completions, flow control.",
    no_args_is_help=True,
    add_completion=False,
)


@events_app.callback()
def events() -> None:
    """gie's events on NATS: routing decisions, completions, flow control."""


def resolve_nats_url(option: str | None, state_dir: Path | None) -> str:
    """``--nats-url``, else ``$GIE_NATS_URL``, else the running local stack's NATS."""
    if option:
        return option
    configured = os.environ.get(NATS_URL_ENV)
    if configured:
        return configured
    state = StateStore((state_dir or default_state_dir()).absolute()).load()
    if state is not None:
        for part in state.parts:
            if part.kind == "nats" and "client" in part.addresses:
                return part.addresses["client"]
    raise GieConsumeError(
        f"no NATS URL: pass --nats-url, set {NATS_URL_ENV}, or start the local stack (gie up)"
    )


def resolve_credentials(
    url: str,
    state_dir: Path | None,
    *,
    user: str | None,
    password_file: Path | None,
    ca_file: Path | None,
) -> NatsCredentials:
    """``--nats-user`` / ``--nats-password-file`` / ``--nats-ca-file``; without them,
    for the NATS of a local stack started with ``gie up --secure``, the third-party
    reader's credentials it made (the reader may read routing and flow events)."""
    if user or password_file or ca_file:
        return NatsCredentials(user=user, password_file=password_file, tls_ca_file=ca_file)
    state = StateStore((state_dir or default_state_dir()).absolute()).load()
    if state is None or not url.startswith("tls://"):
        return NatsCredentials()
    if not any(p.kind == "nats" and p.addresses.get("client") == url for p in state.parts):
        return NatsCredentials()
    pki = state.data_dir / "pki"
    return NatsCredentials(
        user=READER.user,
        password_file=pki / "secrets" / f"nats-{READER.user}.password",
        tls_ca_file=pki / "ca.pem",
    )


def event_line(tailed: TailedEvent) -> str:
    """One human-readable line: sequence, time, pool, type, then the event's own fields."""
    event = tailed.event
    if isinstance(event, RawEvent):
        return f"{tailed.seq} {event.type or '?'} (not decoded: {event.reason})"
    fields = " ".join(
        f"{name}={value}"
        for name, value in event.model_dump(mode="json").items()
        if name not in _SKIPPED_FIELDS
        and name not in _LONG_FIELDS
        and value not in (None, "", [], ())
    )
    moment = event.occurred_at.isoformat(timespec="milliseconds")
    return f"{tailed.seq} {moment} {event.pool} {event.type} {fields}"


def event_json(tailed: TailedEvent) -> bytes:
    """One JSON object: subject, stream, seq, the event as published, the message headers."""
    return orjson.dumps(
        {
            "subject": tailed.subject,
            "stream": tailed.stream,
            "seq": tailed.seq,
            "event": tailed.raw,
            "headers": tailed.headers,
        }
    )


async def _tail(
    nats_url: str,
    *,
    pool: str | None,
    types: list[str],
    since: str | None,
    count: int,
    as_json: bool,
    stream: str,
    credentials: NatsCredentials,
) -> int:
    printed = 0
    try:
        start = parse_since(since) if since else None
        async for tailed in tail(
            nats_url, pool=pool, types=types, since=start, stream=stream, credentials=credentials
        ):
            if as_json:
                sys.stdout.buffer.write(event_json(tailed) + b"\n")
            else:
                sys.stdout.write(event_line(tailed) + "\n")
            sys.stdout.flush()
            printed += 1
            if count and printed >= count:
                break
    except GieConsumeError as error:
        err_console.print(f"[bold red]error:[/] {escape(str(error))}")
        return EXIT_FAILED
    return 0


@events_app.command("tail")
def tail_command(
    *,
    pool: Annotated[
        str | None, typer.Option(help="Only this pool's events (namespace/name).")
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option("--type", help="Only events of this type (repeat for several)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Start this long ago (90s, 10m, 2h, 1d) or at this RFC 3339 time "
            "(default: new events only). Older than the stream keeps: an error.",
            show_default=False,
        ),
    ] = None,
    count: Annotated[int, typer.Option(min=0, help="Exit after this many events (0: never).")] = 0,
    nats_url: Annotated[
        str | None,
        typer.Option(
            help=f"NATS server (default: ${NATS_URL_ENV}, else the local stack's, gie up).",
            show_default=False,
        ),
    ] = None,
    stream: Annotated[str, typer.Option(help="The JetStream stream to read.")] = EVENTS_STREAM,
    nats_user: Annotated[
        str | None,
        typer.Option(
            help="NATS user (default: for a local stack started with --secure, gie-reader).",
            show_default=False,
        ),
    ] = None,
    nats_password_file: Annotated[
        Path | None,
        typer.Option(help="File holding the NATS user's password.", show_default=False),
    ] = None,
    nats_ca_file: Annotated[
        Path | None,
        typer.Option(
            help="CA certificate (PEM) to verify NATS with (use a tls:// URL).",
            show_default=False,
        ),
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            help="Where the local stack is recorded (default: $GIE_STATE_DIR or ./.gie/stack).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="One JSON object per event: subject, stream, seq, event, headers.",
        ),
    ] = False,
) -> None:
    """Print events as the stream holds them (batches unpacked), one per line.

    An ordered consumer that acknowledges nothing: tailing never disturbs other
    consumers. Exit code 1 on an error (no NATS, a start older than the stream keeps).
    """
    try:
        url = resolve_nats_url(nats_url, state_dir)
        credentials = resolve_credentials(
            url,
            state_dir,
            user=nats_user,
            password_file=nats_password_file,
            ca_file=nats_ca_file,
        )
    except (GieConsumeError, DevstackError) as error:  # no URL, or an unreadable stack record
        err_console.print(f"[bold red]error:[/] {escape(str(error))}")
        raise typer.Exit(EXIT_FAILED) from None
    raise typer.Exit(
        run_command(
            _tail(
                url,
                pool=pool,
                types=types or [],
                since=since,
                count=count,
                as_json=as_json,
                stream=stream,
                credentials=credentials,
            )
        )
    )
