"""Envoy bootstrap for the local gateway: ext_proc to the picker, then original-dst routing.

:func:`build_envoy_config` is pure: it returns the bootstrap as a plain dict (written as
YAML by the stack, checked by unit tests). The shape follows what the Gateway API
Inference Extension expects from a gateway:

* one listener with an HTTP connection manager; ``/`` routes to the ``original_dst``
  cluster, which sends each request to the ``ip:port`` the picker wrote into the
  ``x-gateway-destination-endpoint`` header;
* the ``envoy.filters.http.ext_proc`` filter before the router, calling the picker over
  plaintext HTTP/2 (cluster ``gie_picker``). ``max_concurrent_streams: 2`` makes Envoy
  open several connections so picker worker processes sharing a port all get streams;
  ``message_timeout`` is long because in ``FULL_DUPLEX_STREAMED`` mode the picker holds
  the headers response until the request body has ended; ``receiving_namespaces``
  admits the picker's ``envoy.lb`` dynamic metadata (Envoy drops it otherwise);
* with :class:`PickerTls`, the picker cluster speaks TLS: Envoy checks that the picker's
  certificate chains to the given CA *and* carries the given DNS name (subject
  alternative name), and presents its own certificate when the picker asks for one
  (mutual TLS). Health checks and completion records take the same channel;
* the response path (:class:`ResponsePath`). ``records`` (the default): the ext_proc
  filter skips the response phases; ``sse_to_metadata`` (streamed responses) and
  ``json_to_metadata`` (JSON ones) copy the response's ``usage`` into the ``gie.usage``
  metadata namespace, and a gRPC access logger sends one record per routed request,
  batched every 50 ms, to the picker cluster's access-log service, which publishes
  ``RequestCompleted`` from it. ``ext-proc``: responses stream through the picker,
  which reads the usage itself (for proxies without those filters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from gie.completion_records import (
    ACCESS_LOG_NAME,
    REQUEST_ID_KEY,
    ROUTE_NAMESPACE,
    USAGE_NAMESPACE,
    USAGE_PATHS,
)
from gie.epp_protocol import DESTINATION_HEADER, LB_NAMESPACE, SUBSET_NAMESPACE
from gie_cli.devstack.local_reply import picker_unavailable_reply
from gie_cli.devstack.test_hooks import served_endpoint_filter, subset_hint_filter

__all__ = [
    "DESTINATION_HEADER",
    "EXT_PROC_CLUSTER",
    "ORIGINAL_DST_CLUSTER",
    "POOL_CLUSTER",
    "BodyMode",
    "FailureMode",
    "PickerTls",
    "ResponsePath",
    "build_envoy_config",
    "upstream_tls_socket",
]

EXT_PROC_CLUSTER = "gie_picker"
ORIGINAL_DST_CLUSTER = "original_dst"
POOL_CLUSTER = "pool"
_TYPE_LB = "type.googleapis.com/envoy.extensions.load_balancing_policies."
LOOPBACK = "127.0.0.1"

_TYPE = "type.googleapis.com/envoy.extensions."
_HCM = _TYPE + "filters.network.http_connection_manager.v3.HttpConnectionManager"
_EXT_PROC = _TYPE + "filters.http.ext_proc.v3.ExternalProcessor"
_ROUTER = _TYPE + "filters.http.router.v3.Router"
_FILE_LOG = _TYPE + "access_loggers.file.v3.FileAccessLog"
_GRPC_LOG = _TYPE + "access_loggers.grpc.v3.HttpGrpcAccessLogConfig"
_SSE_TO_METADATA = _TYPE + "filters.http.sse_to_metadata.v3.SseToMetadata"
_JSON_TO_METADATA = _TYPE + "filters.http.json_to_metadata.v3.JsonToMetadata"
_JSON_PARSER = _TYPE + "content_parsers.json.v3.JsonContentParser"
# How long Envoy holds completion records before sending them as one batch.
RECORD_FLUSH_INTERVAL = "0.05s"
# Envoy's thread watchdogs with thresholds in seconds instead of its default 200 ms
# miss / 1 s megamiss: every thread touches its watchdog at half the miss timeout, so
# the defaults wake each idle thread (and two watchdog threads) about ten times a
# second for nothing; stalls of a second or more are still counted (kill stays off).
WATCHDOG = {"miss_timeout": "1s", "megamiss_timeout": "5s"}
_HTTP_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
_UPSTREAM_TLS = _TYPE + "transport_sockets.tls.v3.UpstreamTlsContext"

# Local development should never trip Envoy's default circuit breakers (1024).
_NO_BREAKERS = {
    "thresholds": [
        {
            "max_connections": 100_000,
            "max_pending_requests": 100_000,
            "max_requests": 100_000,
            # Envoy's default of 3 concurrent retries would turn a dead model server's
            # refused connections into 503s (flag UO) instead of tries of the fallback.
            "max_retries": 100_000,
        }
    ]
}

_ACCESS_LOG_FORMAT = {
    "time": "%START_TIME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "status": "%RESPONSE_CODE%",
    "flags": "%RESPONSE_FLAGS%",
    "details": "%RESPONSE_CODE_DETAILS%",
    "duration_ms": "%DURATION%",
    "upstream": "%UPSTREAM_HOST%",
    "destination": f"%REQ({DESTINATION_HEADER})%",
    "request_id": "%REQ(X-REQUEST-ID)%",
}


class FailureMode(StrEnum):
    """The pool's ``failureMode``: what the gateway does when no picker answers."""

    FAIL_CLOSE = "FailClose"
    FAIL_OPEN = "FailOpen"


class BodyMode(StrEnum):
    """How Envoy sends the request body to the picker."""

    FULL_DUPLEX_STREAMED = "FULL_DUPLEX_STREAMED"
    BUFFERED = "BUFFERED"


class ResponsePath(StrEnum):
    """How the end of each response (status, usage, served endpoint) reaches the picker."""

    RECORDS = "records"  # Envoy reads usage; batched gRPC access-log records
    EXT_PROC = "ext-proc"  # every response chunk through the picker


@dataclass(frozen=True, kw_only=True)
class PickerTls:
    """How Envoy verifies the picker's certificate, and proves itself to the picker.

    ``subject_alt_name`` is the DNS name the picker's certificate must carry (also sent
    as SNI); ``ca_file`` the CA bundle it must chain to. ``client_certificate`` and
    ``client_key`` (together) are presented when the picker requests a certificate.
    """

    ca_file: Path
    subject_alt_name: str
    client_certificate: Path | None = None
    client_key: Path | None = None

    def __post_init__(self) -> None:
        if not self.subject_alt_name:
            raise ValueError("PickerTls.subject_alt_name must not be empty")
        if (self.client_certificate is None) != (self.client_key is None):
            raise ValueError("PickerTls.client_certificate and client_key go together")


def upstream_tls_socket(tls: PickerTls) -> dict[str, Any]:
    """The cluster's ``transport_socket``: TLS, the server verified by CA and name."""
    common: dict[str, Any] = {
        "alpn_protocols": ["h2"],
        # Envoy's client default stops at TLS 1.2; the picker's gRPC server speaks 1.3.
        "tls_params": {
            "tls_minimum_protocol_version": "TLSv1_2",
            "tls_maximum_protocol_version": "TLSv1_3",
        },
        "validation_context": {
            "trusted_ca": {"filename": str(tls.ca_file)},
            "match_typed_subject_alt_names": [
                {"san_type": "DNS", "matcher": {"exact": tls.subject_alt_name}}
            ],
        },
    }
    if tls.client_certificate is not None and tls.client_key is not None:
        common["tls_certificates"] = [
            {
                "certificate_chain": {"filename": str(tls.client_certificate)},
                "private_key": {"filename": str(tls.client_key)},
            }
        ]
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": _UPSTREAM_TLS,
            "sni": tls.subject_alt_name,
            "common_tls_context": common,
        },
    }


def _socket_address(port: int) -> dict[str, Any]:
    return {"socket_address": {"address": LOOPBACK, "port_value": port}}


def _ext_proc_filter(
    body_mode: BodyMode,
    message_timeout_s: int,
    response_path: ResponsePath,
    failure_mode: FailureMode,
) -> dict[str, Any]:
    records = response_path == ResponsePath.RECORDS
    return {
        "name": "envoy.filters.http.ext_proc",
        "typed_config": {
            "@type": _EXT_PROC,
            # A stream reset by a picker replica that died (or refused) is retried on
            # another: without it, requests started in the tens of milliseconds before
            # Envoy notices the dead connection fail.
            "grpc_service": {
                "envoy_grpc": {"cluster_name": EXT_PROC_CLUSTER},
                "retry_policy": {
                    "retry_on": "connect-failure,refused-stream,reset",
                    "num_retries": 2,
                },
            },
            "failure_mode_allow": failure_mode is FailureMode.FAIL_OPEN,
            "message_timeout": f"{message_timeout_s}s",
            "processing_mode": {
                "request_header_mode": "SEND",
                "response_header_mode": "SKIP" if records else "SEND",
                "request_body_mode": body_mode.value,
                "request_trailer_mode": "SEND",
                # ext-proc: responses stream through the picker so it can read token
                # usage; records: the picker never sees them (Envoy reports the end).
                "response_body_mode": "NONE" if records else "FULL_DUPLEX_STREAMED",
                "response_trailer_mode": "SKIP" if records else "SEND",
            },
            "metadata_options": {
                "receiving_namespaces": {
                    "untyped": [LB_NAMESPACE, ROUTE_NAMESPACE] if records else [LB_NAMESPACE]
                },
                # The subset hint and the served endpoint, when the gateway sets them.
                "forwarding_namespaces": {"untyped": [LB_NAMESPACE, SUBSET_NAMESPACE]},
            },
            "allow_mode_override": False,
        },
    }


def _usage_rule(key: str) -> dict[str, Any]:
    return {
        "selectors": [{"key": part} for part in USAGE_PATHS[key]],
        "on_present": {"metadata_namespace": USAGE_NAMESPACE, "key": key, "type": "NUMBER"},
    }


def usage_filters() -> list[dict[str, Any]]:
    """Filters that copy a response's ``usage`` into ``gie.usage`` dynamic metadata.

    Streamed (SSE) responses: every event's JSON is read, the last value found wins
    (servers send usage in the last event before ``[DONE]``). JSON responses: the
    body is buffered (as a client would wait for it anyway) and read once.
    """
    rules = [_usage_rule(key) for key in USAGE_PATHS]
    sse = {
        "@type": _SSE_TO_METADATA,
        "response_rules": {
            "max_event_size": 1 << 20,
            "content_parser": {
                "name": "envoy.content_parsers.json",
                "typed_config": {"@type": _JSON_PARSER, "rules": [{"rule": r} for r in rules]},
            },
        },
    }
    json_body = {"@type": _JSON_TO_METADATA, "response_rules": {"rules": rules}}
    return [
        {"name": "envoy.filters.http.sse_to_metadata", "typed_config": sse},
        {"name": "envoy.filters.http.json_to_metadata", "typed_config": json_body},
    ]


def completion_record_log(cluster: str) -> dict[str, Any]:
    """The gRPC access logger that sends a record per routed request to ``cluster``."""
    return {
        "name": "envoy.access_loggers.http_grpc",
        # Only requests the picker routed (it named them in gie.route): no records
        # for the picker's own error answers.
        "filter": {
            "metadata_filter": {
                "matcher": {
                    "filter": ROUTE_NAMESPACE,
                    "path": [{"key": REQUEST_ID_KEY}],
                    "value": {"present_match": True},
                },
                "match_if_key_not_found": False,
            }
        },
        "typed_config": {
            "@type": _GRPC_LOG,
            "common_config": {
                "log_name": ACCESS_LOG_NAME,
                "transport_api_version": "V3",
                "grpc_service": {"envoy_grpc": {"cluster_name": cluster}},
                "buffer_flush_interval": RECORD_FLUSH_INTERVAL,
                "buffer_size_bytes": 64 * 1024,
            },
            # The request's trace context, so RequestCompleted carries it too.
            "additional_request_headers_to_log": ["traceparent"],
        },
    }


# How many times a request is sent on to the next endpoint the picker named.
UPSTREAM_RETRIES = 2


def upstream_retry_policy() -> dict[str, Any]:
    """Retry a request on the picker's next endpoint when its endpoint failed it.

    A refused connection, a connection reset before the response started, or a 503
    (a server that is up but cannot serve) sends the request again, at most
    :data:`UPSTREAM_RETRIES` times; each retry goes to the next entry of the
    ``override_host`` list (primary, then the fallbacks), then round robin over the
    pool once the list is used up. A response already streaming to the client is
    never retried. Bodies up to Envoy's buffer limit (1 MiB) can be sent again.
    """
    return {
        "retry_on": "connect-failure,refused-stream,reset,retriable-status-codes",
        "retriable_status_codes": [503],
        "num_retries": UPSTREAM_RETRIES,
        "retry_back_off": {"base_interval": "0.005s", "max_interval": "0.05s"},
    }


def _http_filters(
    body_mode: BodyMode,
    message_timeout_s: int,
    *,
    test_hooks: bool,
    response_path: ResponsePath,
    failure_mode: FailureMode,
) -> list[dict[str, Any]]:
    ext_proc = _ext_proc_filter(body_mode, message_timeout_s, response_path, failure_mode)
    router = {"name": "envoy.filters.http.router", "typed_config": {"@type": _ROUTER}}
    # After ext_proc, so on the response path they run before it.
    usage = usage_filters() if response_path == ResponsePath.RECORDS else []
    if test_hooks:
        return [subset_hint_filter(), ext_proc, *usage, served_endpoint_filter(), router]
    return [ext_proc, *usage, router]


def _http_connection_manager(
    *,
    body_mode: BodyMode,
    message_timeout_s: int,
    access_log_path: Path | None,
    test_hooks: bool,
    upstream_cluster: str,
    response_path: ResponsePath,
    failure_mode: FailureMode,
) -> dict[str, Any]:
    hcm: dict[str, Any] = {
        "@type": _HCM,
        "stat_prefix": "gateway",
        "stream_idle_timeout": "300s",
        "route_config": {
            "name": "gateway",
            "virtual_hosts": [
                {
                    "name": "inference",
                    "domains": ["*"],
                    "routes": [
                        {
                            "match": {"prefix": "/"},
                            # 0s disables the route timeout: streamed completions may be long.
                            "route": {
                                "cluster": upstream_cluster,
                                "timeout": "0s",
                                **(
                                    {"retry_policy": upstream_retry_policy()}
                                    if upstream_cluster == POOL_CLUSTER
                                    else {}
                                ),
                            },
                        }
                    ],
                }
            ],
        },
        "http_filters": _http_filters(
            body_mode,
            message_timeout_s,
            test_hooks=test_hooks,
            response_path=response_path,
            failure_mode=failure_mode,
        ),
        "local_reply_config": picker_unavailable_reply(),
    }
    access_log: list[dict[str, Any]] = []
    if response_path == ResponsePath.RECORDS:
        access_log.append(completion_record_log(EXT_PROC_CLUSTER))
    if access_log_path is not None:
        access_log.append(
            {
                "name": "envoy.access_loggers.file",
                "typed_config": {
                    "@type": _FILE_LOG,
                    "path": str(access_log_path),
                    "log_format": {"json_format": dict(_ACCESS_LOG_FORMAT)},
                },
            }
        )
    if access_log:
        hcm["access_log"] = access_log
    return hcm


def _picker_cluster(ports: Sequence[int], tls: PickerTls | None) -> dict[str, Any]:
    # Several ports = one per picker worker: Envoy round-robins streams over them.
    # With one shared port, capping concurrent streams per connection makes Envoy
    # open more connections for SO_REUSEPORT to spread. A worker that dies stops
    # getting streams at once (a refused connection ejects it for 3 s) or at the next
    # health check (every second: each check costs the picker CPU); it gets them again
    # once it answers ready.
    cluster: dict[str, Any] = {
        "name": EXT_PROC_CLUSTER,
        "type": "STATIC",
        "lb_policy": "ROUND_ROBIN",
        "connect_timeout": "2s",
        "circuit_breakers": _NO_BREAKERS,
        # No panic routing: with every worker unhealthy a stream fails at once ("no
        # healthy upstream"), before any body went to a picker, so FailOpen can still
        # send the request on (a stream that fails later cannot fail open in
        # FULL_DUPLEX_STREAMED mode: the body chunks are gone).
        "common_lb_config": {"healthy_panic_threshold": {"value": 0}},
        "health_checks": [
            {
                "timeout": "0.5s",
                "interval": "1s",
                # ext_proc streams do not count as traffic for health checking: without
                # this, checks after the first would come once a minute.
                "no_traffic_interval": "1s",
                "unhealthy_threshold": 1,
                "healthy_threshold": 1,
                "grpc_health_check": {"service_name": "readiness"},
            }
        ],
        "outlier_detection": {
            "split_external_local_origin_errors": True,
            "consecutive_local_origin_failure": 1,
            "interval": "0.5s",
            "base_ejection_time": "3s",
            "max_ejection_percent": 100,
        },
        "load_assignment": {
            "cluster_name": EXT_PROC_CLUSTER,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {"endpoint": {"address": _socket_address(port)}} for port in ports
                    ]
                }
            ],
        },
        "typed_extension_protocol_options": {
            _HTTP_OPTIONS_KEY: {
                "@type": "type.googleapis.com/" + _HTTP_OPTIONS_KEY,
                "explicit_http_config": {"http2_protocol_options": {"max_concurrent_streams": 2}},
            }
        },
    }
    if tls is not None:
        cluster["transport_socket"] = upstream_tls_socket(tls)
    return cluster


def _original_dst_cluster() -> dict[str, Any]:
    return {
        "name": ORIGINAL_DST_CLUSTER,
        "type": "ORIGINAL_DST",
        "lb_policy": "CLUSTER_PROVIDED",
        "connect_timeout": "2s",
        "circuit_breakers": _NO_BREAKERS,
        "original_dst_lb_config": {
            "use_http_header": True,
            "http_header_name": DESTINATION_HEADER,
        },
    }


def _pool_cluster(endpoints: Sequence[str]) -> dict[str, Any]:
    """The pool's endpoints with the ``override_host`` policy: the picker's primary
    first, then its fallbacks, taken from the ``envoy.lb`` metadata it sets."""
    hosts = []
    for endpoint in endpoints:
        host, _, port = endpoint.rpartition(":")
        address = {"socket_address": {"address": host, "port_value": int(port)}}
        hosts.append({"endpoint": {"address": address}})
    override = {
        "@type": _TYPE_LB + "override_host.v3.OverrideHost",
        "override_host_sources": [
            {"metadata": {"key": LB_NAMESPACE, "path": [{"key": DESTINATION_HEADER}]}}
        ],
        "fallback_policy": {
            "policies": [
                {
                    "typed_extension_config": {
                        "name": "envoy.load_balancing_policies.round_robin",
                        "typed_config": {"@type": _TYPE_LB + "round_robin.v3.RoundRobin"},
                    }
                }
            ]
        },
    }
    return {
        "name": POOL_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "2s",
        "circuit_breakers": _NO_BREAKERS,
        "load_assignment": {"cluster_name": POOL_CLUSTER, "endpoints": [{"lb_endpoints": hosts}]},
        "load_balancing_policy": {
            "policies": [
                {
                    "typed_extension_config": {
                        "name": "envoy.load_balancing_policies.override_host",
                        "typed_config": override,
                    }
                }
            ]
        },
    }


def build_envoy_config(
    *,
    gateway_port: int,
    admin_port: int,
    picker_grpc_port: int,
    body_mode: BodyMode = BodyMode.FULL_DUPLEX_STREAMED,
    message_timeout_s: int = 30,
    access_log_path: Path | None = None,
    picker_worker_ports: Sequence[int] = (),
    test_hooks: bool = False,
    pool_endpoints: Sequence[str] = (),
    response_path: ResponsePath = ResponsePath.RECORDS,
    failure_mode: FailureMode = FailureMode.FAIL_CLOSE,
    picker_tls: PickerTls | None = None,
) -> dict[str, Any]:
    """Return an Envoy bootstrap (as a dict) for the local gateway.

    With ``pool_endpoints`` the gateway routes over a static cluster of them with
    Envoy's ``override_host`` policy, so the picker's fallbacks are honoured;
    without, over an ``ORIGINAL_DST`` cluster (any endpoint, primary only).
    ``test_hooks`` adds the Lua filters of :mod:`gie_cli.devstack.test_hooks` (subset
    hint and served endpoint from headers), for protocol tests.

    The gateway listens on ``127.0.0.1:gateway_port``, the admin interface on
    ``127.0.0.1:admin_port``, and the picker is expected on ``127.0.0.1:picker_grpc_port``.
    ``access_log_path``, when given, receives one JSON line per request.
    ``response_path`` says how the picker learns of each response's end (module docstring).
    ``picker_tls``: the picker serves TLS, verified as it says (None: plaintext).
    """
    hcm = _http_connection_manager(
        body_mode=body_mode,
        message_timeout_s=message_timeout_s,
        access_log_path=access_log_path,
        test_hooks=test_hooks,
        upstream_cluster=POOL_CLUSTER if pool_endpoints else ORIGINAL_DST_CLUSTER,
        response_path=response_path,
        failure_mode=failure_mode,
    )
    upstream = _pool_cluster(pool_endpoints) if pool_endpoints else _original_dst_cluster()
    return {
        "admin": {"address": _socket_address(admin_port)},
        "watchdogs": {"main_thread_watchdog": dict(WATCHDOG), "worker_watchdog": dict(WATCHDOG)},
        "static_resources": {
            "listeners": [
                {
                    "name": "gateway",
                    "address": _socket_address(gateway_port),
                    "filter_chains": [
                        {
                            "filters": [
                                {
                                    "name": "envoy.filters.network.http_connection_manager",
                                    "typed_config": hcm,
                                }
                            ]
                        }
                    ],
                }
            ],
            "clusters": [
                upstream,
                _picker_cluster(list(picker_worker_ports) or [picker_grpc_port], picker_tls),
            ],
        },
    }
