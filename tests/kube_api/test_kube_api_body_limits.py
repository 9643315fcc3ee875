"""Hostile request bodies get a 400/413 Status naming the limit; the server keeps serving."""

from __future__ import annotations

import httpx
import pytest

from gie_cli.kube.body_limits import MAX_BODY_BYTES, MAX_BODY_DEPTH
from tests.kube_api.server_process import ServedApi

# A ConfigMap whose data nests too deep, a billion-laughs YAML, a huge body.
_DEEP = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":' + (
    b"[" * (MAX_BODY_DEPTH + 5) + b"]" * (MAX_BODY_DEPTH + 5) + b"}"
)
_LAUGHS = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: laughs}\nx0: &x0 [a, a]\n"
    + "".join(f"x{i}: &x{i} [*x{i - 1}, *x{i - 1}]\n" for i in range(1, 40))
).encode()


@pytest.mark.parametrize(
    ("body", "content_type", "code", "words"),
    [
        (_DEEP, "application/json", 400, f"nests deeper than {MAX_BODY_DEPTH} levels"),
        (b"[" * 100_000, "application/json", 400, "nests deeper than"),
        (b"a: " + b"[" * 100_000, "application/yaml", 400, "nests deeper than"),
        (_LAUGHS, "application/yaml", 400, "aliases expanded"),
        (b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}", "application/json", 413, ""),
    ],
    ids=["json-deep", "json-very-deep", "yaml-very-deep", "yaml-billion-laughs", "too-large"],
)
async def test_a_hostile_body_is_refused_naming_the_limit(
    served_api: ServedApi, body: bytes, content_type: str, code: int, words: str
) -> None:
    url = f"{served_api.url}/api/v1/namespaces/default/configmaps"
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(url, content=body, headers={"Content-Type": content_type})
        assert response.status_code == code, response.text[:300]
        if words:
            assert words in response.json()["message"]
        # and the server still answers
        assert (await http.get(f"{served_api.url}/version")).status_code == 200
    assert served_api.process.poll() is None
