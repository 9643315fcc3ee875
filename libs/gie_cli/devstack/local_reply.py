"""Envoy's answer when no picker answers and the pool fails closed.

Left alone, Envoy answers a failed ext_proc stream with a bare 500 and no body. The
``local_reply_config`` of :func:`picker_unavailable_reply` turns that into a 503 with
an OpenAI-style JSON error saying the endpoint picker is unavailable. It matches only
replies Envoy generates itself whose response code details start with ``ext_proc_error``
(a refused, reset or unhealthy picker: ``ext_proc_error_gRPC_error_14{...}``; a picker
that did not answer in time: ``ext_proc_error_message_timeout``), through a CEL filter;
an upstream's own 500 is never a local reply, so it passes untouched.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PICKER_UNAVAILABLE", "picker_unavailable_reply"]

PICKER_UNAVAILABLE = "picker_unavailable"

_CEL = "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter"


def picker_unavailable_reply() -> dict[str, Any]:
    """``local_reply_config`` for the HTTP connection manager (see the module doc)."""
    return {
        "mappers": [
            {
                "filter": {
                    "extension_filter": {
                        "name": "envoy.access_loggers.extension_filters.cel",
                        "typed_config": {
                            "@type": _CEL,
                            "expression": "response.code_details.startsWith('ext_proc_error')",
                        },
                    }
                },
                "status_code": 503,
                "body_format_override": {
                    "json_format": {
                        "error": {
                            "message": "the endpoint picker is unavailable",
                            "type": PICKER_UNAVAILABLE,
                            "code": 503,
                            "details": "%RESPONSE_CODE_DETAILS%",
                        }
                    }
                },
            }
        ]
    }
