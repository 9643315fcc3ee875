"""The Redis ACL of gie's users: it covers every command the flow-controller's scripts
call (Redis checks a script's commands against its caller's ACL), and nothing is
administrative."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from gie.security import FLOW_CONTROLLER_REDIS, redis_acl_file

_CALL = re.compile(r"redis\.p?call\(\s*['\"]([A-Za-z]+)['\"]")


def script_commands() -> set[str]:
    folder = resources.files("gie_flow_controller.state.lua")
    found: set[str] = set()
    for item in folder.iterdir():
        if item.name.endswith(".lua"):
            found |= {c.lower() for c in _CALL.findall(item.read_text(encoding="utf-8"))}
    return found


def test_the_flow_controller_user_holds_every_command_its_scripts_call() -> None:
    called = script_commands()
    assert len(called) > 10  # the pattern finds the scripts' calls
    assert called <= set(FLOW_CONTROLLER_REDIS.commands)


def test_no_command_of_the_scripts_is_left_unused_in_the_acl() -> None:
    client_side = {"evalsha", "script|load", "hmget", "exists", "subscribe", "unsubscribe", "ping"}
    assert set(FLOW_CONTROLLER_REDIS.commands) == script_commands() | client_side


@pytest.mark.parametrize(
    "command", ["keys", "flushall", "flushdb", "config", "acl", "eval", "script|flush", "scan"]
)
def test_no_administrative_or_wide_command_is_granted(command: str) -> None:
    assert command not in FLOW_CONTROLLER_REDIS.commands


def test_the_acl_file_switches_the_default_user_off_and_scopes_the_keys() -> None:
    text = redis_acl_file({"gie-flow-controller": "s3cret"})
    default, user = text.splitlines()
    assert default.startswith("user default off")
    assert user.startswith("user gie-flow-controller on resetpass >s3cret resetkeys")
    assert "-@all" in user and "~{gie:*}:fc:*" in user and "&{gie:*}:fc:*" in user
    assert user.index("-@all") < user.index("+evalsha")  # deny all first, then allow


@pytest.mark.parametrize(
    ("passwords", "error"),
    [
        ({}, "no Redis password for user 'gie-flow-controller'"),
        ({"gie-flow-controller": "a b"}, "whitespace"),
    ],
    ids=["missing", "whitespace"],
)
def test_a_bad_password_is_an_error_naming_it(passwords: dict[str, str], error: str) -> None:
    with pytest.raises((KeyError, ValueError), match=error):
        redis_acl_file(passwords)
