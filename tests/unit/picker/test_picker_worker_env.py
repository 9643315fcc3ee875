"""What the supervisor hands each worker of a multi-worker picker."""

from __future__ import annotations

import pytest

from gie_picker.server.workers import restart_delay, worker_env
from gie_picker.settings import (
    MULTI_WORKER_BATCH_S,
    MULTI_WORKER_READ_DELAY_S,
    MULTI_WORKER_SETTLE_INTERVAL_S,
    PickerSettings,
)


def settings(**values: object) -> PickerSettings:
    return PickerSettings.model_validate(
        {"workers": 4, "grpc_port": 9002, "admin_port": 9090, "instance_id": "p", **values}
    )


def test_each_worker_is_one_process_with_its_own_identity_and_admin_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GIE_EVENT_READ_DELAY_S", raising=False)
    env = worker_env(settings(), 2)
    assert env["GIE_WORKERS"] == "1"
    assert env["GIE_WORKER_INDEX"] == "2"
    assert env["GIE_INSTANCE_ID"] == "p-w2"
    assert env["GIE_ADMIN_PORT"] == "9092"
    assert env["GIE_GRPC_PORT"] == "9002"


def test_workers_read_events_in_bursts_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GIE_EVENT_READ_DELAY_S", raising=False)
    assert float(worker_env(settings(), 0)["GIE_EVENT_READ_DELAY_S"]) == MULTI_WORKER_READ_DELAY_S
    monkeypatch.setenv("GIE_EVENT_READ_DELAY_S", "0")  # the operator's choice is kept
    assert worker_env(settings(event_read_delay_s=0.0), 0)["GIE_EVENT_READ_DELAY_S"] == "0"


def test_a_single_process_picker_reads_events_in_bursts_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GIE_EVENT_READ_DELAY_S", raising=False)
    assert PickerSettings.model_validate({}).effective_event_read_delay_s == 0.5
    monkeypatch.setenv("GIE_EVENT_READ_DELAY_S", "0")  # on arrival, when asked
    assert PickerSettings().effective_event_read_delay_s == 0.0


def test_workers_hold_routing_events_as_long_as_their_share_of_the_traffic_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GIE_ROUTING_EVENT_RIDE_ALONG_S", raising=False)
    four = worker_env(settings(routing_event_batch_s=0.05), 0)
    assert float(four["GIE_ROUTING_EVENT_RIDE_ALONG_S"]) == pytest.approx(0.04)
    eight = worker_env(settings(workers=8, routing_event_batch_s=0.05), 0)
    assert float(eight["GIE_ROUTING_EVENT_RIDE_ALONG_S"]) == pytest.approx(0.05)  # capped
    monkeypatch.setenv("GIE_ROUTING_EVENT_RIDE_ALONG_S", "0.01")  # the operator's choice
    chosen = worker_env(settings(routing_event_ride_along_s=0.01), 0)
    assert chosen["GIE_ROUTING_EVENT_RIDE_ALONG_S"] == "0.01"


def test_a_ride_along_longer_than_the_batch_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"routing_event_ride_along_s .* routing_event_batch_s"):
        settings(routing_event_batch_s=0.05, routing_event_ride_along_s=0.2)


def test_workers_batch_and_settle_less_often_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("BATCH_S", "RIDE_ALONG_S"):
        monkeypatch.delenv(f"GIE_ROUTING_EVENT_{name}", raising=False)
    monkeypatch.delenv("GIE_EVENT_SETTLE_INTERVAL_S", raising=False)
    env = worker_env(settings(), 0)
    assert float(env["GIE_ROUTING_EVENT_BATCH_S"]) == MULTI_WORKER_BATCH_S
    assert float(env["GIE_EVENT_SETTLE_INTERVAL_S"]) == MULTI_WORKER_SETTLE_INTERVAL_S
    assert float(env["GIE_ROUTING_EVENT_RIDE_ALONG_S"]) == pytest.approx(0.08)  # 4 fifths of it
    for name in ("GIE_ROUTING_EVENT_BATCH_S", "GIE_ROUTING_EVENT_RIDE_ALONG_S"):
        monkeypatch.setenv(name, env[name])
    worker = PickerSettings()  # the worker accepts what it is handed
    assert worker.routing_event_ride_along_s == pytest.approx(0.08)


def test_an_operators_batch_and_settle_interval_reach_every_worker_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIE_ROUTING_EVENT_BATCH_S", "0.02")
    monkeypatch.setenv("GIE_EVENT_SETTLE_INTERVAL_S", "0")
    monkeypatch.delenv("GIE_ROUTING_EVENT_RIDE_ALONG_S", raising=False)
    env = worker_env(PickerSettings(workers=4, grpc_port=9002, instance_id="p"), 0)
    assert env["GIE_ROUTING_EVENT_BATCH_S"] == "0.02"
    assert env["GIE_EVENT_SETTLE_INTERVAL_S"] == "0"
    assert float(env["GIE_ROUTING_EVENT_RIDE_ALONG_S"]) == pytest.approx(0.016)


def test_a_worker_that_keeps_dying_waits_longer_each_time_up_to_thirty_seconds() -> None:
    assert restart_delay(0) == 0.0  # it had run a while: start it again at once
    assert [restart_delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert restart_delay(20) == 30.0
