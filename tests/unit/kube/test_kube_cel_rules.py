"""CRD validation rules (CEL) evaluated as the API server evaluates them."""

from __future__ import annotations

from typing import Any

from gie_cli.kube.cel_rules import validate_rules

PORTS_UNIQUE = {
    "rule": "self.all(p1, self.exists_one(p2, p1.number==p2.number))",
    "message": "port number must be unique",
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "ports": {
                    "type": "array",
                    "x-kubernetes-validations": [PORTS_UNIQUE],
                    "items": {"type": "object", "properties": {"number": {"type": "integer"}}},
                },
                "ref": {
                    "type": "object",
                    "x-kubernetes-validations": [
                        {
                            "rule": "self.kind != 'Service' || has(self.port)",
                            "message": "port is required",
                        },
                        {"rule": "self.name.size() < 5"},
                        {
                            "rule": "self.name != 'bad'",
                            "messageExpression": "'name ' + self.name + ' is not allowed'",
                            "fieldPath": ".name",
                            "reason": "FieldValueForbidden",
                        },
                    ],
                    "properties": {
                        "kind": {"type": "string"},
                        "name": {"type": "string"},
                        "port": {"type": "integer"},
                    },
                },
                "mode": {
                    "type": "string",
                    "x-kubernetes-validations": [
                        {"rule": "self == oldSelf", "message": "mode is immutable"},
                        {"rule": "self.lowerAscii() == self"},
                    ],
                },
            },
        }
    },
}


def _errors(spec: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    previous = {"spec": old} if old is not None else None
    args = (previous,) if previous is not None else ()
    return [str(e) for e in validate_rules({"spec": spec}, SCHEMA, "", *args)]


def test_a_valid_object_breaks_no_rule() -> None:
    assert (
        _errors(
            {
                "ports": [{"number": 1}, {"number": 2}],
                "ref": {"kind": "Service", "name": "a", "port": 1},
            }
        )
        == []
    )


def test_a_false_rule_reports_its_message_at_the_node() -> None:
    assert _errors({"ports": [{"number": 1}, {"number": 1}]}) == [
        'spec.ports: Invalid value: "array": port number must be unique'
    ]


def test_rules_without_a_message_field_path_and_reason() -> None:
    errors = _errors({"ref": {"kind": "Service", "name": "bad", "port": 1}})
    assert errors == ["spec.ref.name: Forbidden: name bad is not allowed"]
    assert _errors({"ref": {"kind": "Other", "name": "longer"}}) == [
        'spec.ref: Invalid value: "object": failed rule: self.name.size() < 5'
    ]


def test_an_absent_field_is_a_rule_error_at_the_node() -> None:
    missing = 'spec.ref: Invalid value: "object": no such key: name evaluating rule: '
    assert _errors({"ref": {"kind": "Other"}}) == [
        missing + "failed rule: self.name.size() < 5",
        missing + "failed rule: self.name != 'bad'",
    ]


def test_transition_rules_run_only_on_updates() -> None:
    assert _errors({"mode": "a"}) == []
    assert _errors({"mode": "a"}, old={"mode": "a"}) == []
    assert _errors({"mode": "b"}, old={"mode": "a"}) == [
        'spec.mode: Invalid value: "string": mode is immutable'
    ]


def test_rules_calling_kubernetes_extension_functions_are_skipped() -> None:
    assert _errors({"mode": "UPPER"}) == []
