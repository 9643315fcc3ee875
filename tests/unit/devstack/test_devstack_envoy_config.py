"""build_envoy_config: the pieces the gateway needs, and Envoy accepts the result."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gie_cli.devstack import BodyMode, ResponsePath, build_envoy_config, find_envoy
from gie_cli.devstack.envoy_config import DESTINATION_HEADER, EXT_PROC_CLUSTER, PickerTls
from gie_cli.devstack.local_ca import LocalCA


def _config(body_mode: BodyMode = BodyMode.FULL_DUPLEX_STREAMED, **kw: Any) -> dict[str, Any]:
    return build_envoy_config(
        gateway_port=18080, admin_port=18081, picker_grpc_port=18082, body_mode=body_mode, **kw
    )


def _hcm(config: dict[str, Any]) -> dict[str, Any]:
    (listener,) = config["static_resources"]["listeners"]
    (chain,) = listener["filter_chains"]
    (hcm_filter,) = chain["filters"]
    assert hcm_filter["name"] == "envoy.filters.network.http_connection_manager"
    hcm: dict[str, Any] = hcm_filter["typed_config"]
    return hcm


def _cluster(config: dict[str, Any], name: str) -> dict[str, Any]:
    clusters: dict[str, dict[str, Any]] = {
        c["name"]: c for c in config["static_resources"]["clusters"]
    }
    return clusters[name]


def _ext_proc(config: dict[str, Any]) -> dict[str, Any]:
    filters = _hcm(config)["http_filters"]
    names = [f["name"] for f in filters]
    assert names[0] == "envoy.filters.http.ext_proc", "ext_proc must run first"
    assert names[-1] == "envoy.filters.http.router", "the router must run last"
    ext_proc: dict[str, Any] = filters[0]["typed_config"]
    return ext_proc


_USAGE_FILTERS = ["envoy.filters.http.sse_to_metadata", "envoy.filters.http.json_to_metadata"]


def test_listener_and_admin_bind_loopback_ports() -> None:
    config = _config()
    assert config["admin"]["address"]["socket_address"] == {
        "address": "127.0.0.1",
        "port_value": 18081,
    }
    (listener,) = config["static_resources"]["listeners"]
    assert listener["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 18080}


@pytest.mark.parametrize(
    ("response_path", "receiving"),
    [
        (ResponsePath.RECORDS, ["envoy.lb", "gie.route"]),
        (ResponsePath.EXT_PROC, ["envoy.lb"]),
    ],
    ids=lambda v: v.value if isinstance(v, ResponsePath) else "",
)
def test_ext_proc_filter_settings(response_path: ResponsePath, receiving: list[str]) -> None:
    ext_proc = _ext_proc(_config(response_path=response_path))
    assert ext_proc["grpc_service"]["envoy_grpc"] == {"cluster_name": "gie_picker"}
    assert ext_proc["failure_mode_allow"] is False
    assert ext_proc["message_timeout"] == "30s"
    assert ext_proc["allow_mode_override"] is False
    assert ext_proc["metadata_options"] == {
        "receiving_namespaces": {"untyped": receiving},
        "forwarding_namespaces": {"untyped": ["envoy.lb", "envoy.lb.subset_hint"]},
    }


@pytest.mark.parametrize("body_mode", list(BodyMode), ids=lambda m: m.value)
def test_processing_mode_follows_body_mode(body_mode: BodyMode) -> None:
    assert _ext_proc(_config(body_mode, response_path=ResponsePath.EXT_PROC))[
        "processing_mode"
    ] == {
        "request_header_mode": "SEND",
        "response_header_mode": "SEND",
        "request_body_mode": body_mode.value,
        "request_trailer_mode": "SEND",
        "response_body_mode": "FULL_DUPLEX_STREAMED",
        "response_trailer_mode": "SEND",
    }


@pytest.mark.parametrize("body_mode", list(BodyMode), ids=lambda m: m.value)
def test_records_path_keeps_responses_away_from_the_picker(body_mode: BodyMode) -> None:
    config = _config(body_mode)  # records are the default
    assert _ext_proc(config)["processing_mode"] == {
        "request_header_mode": "SEND",
        "response_header_mode": "SKIP",
        "request_body_mode": body_mode.value,
        "request_trailer_mode": "SEND",
        "response_body_mode": "NONE",
        "response_trailer_mode": "SKIP",
    }
    hcm = _hcm(config)
    assert [f["name"] for f in hcm["http_filters"]][1:3] == _USAGE_FILTERS
    (log,) = hcm["access_log"]
    assert log["name"] == "envoy.access_loggers.http_grpc"
    common = log["typed_config"]["common_config"]
    assert common["grpc_service"] == {"envoy_grpc": {"cluster_name": "gie_picker"}}
    assert common["log_name"] == "gie-completions"
    assert log["filter"]["metadata_filter"]["matcher"]["filter"] == "gie.route"


def test_ext_proc_path_has_no_usage_filters_nor_record_log() -> None:
    hcm = _hcm(_config(response_path=ResponsePath.EXT_PROC))
    assert not set(_USAGE_FILTERS) & {f["name"] for f in hcm["http_filters"]}
    assert "access_log" not in hcm


@pytest.mark.parametrize(
    ("key", "selectors"),
    [
        ("prompt_tokens", ["usage", "prompt_tokens"]),
        ("completion_tokens", ["usage", "completion_tokens"]),
        ("cached_tokens", ["usage", "prompt_tokens_details", "cached_tokens"]),
    ],
)
def test_usage_filters_copy_each_count_into_gie_usage(key: str, selectors: list[str]) -> None:
    filters = {f["name"]: f["typed_config"] for f in _hcm(_config())["http_filters"]}
    parser = filters["envoy.filters.http.sse_to_metadata"]["response_rules"]["content_parser"]
    sse_rules = [r["rule"] for r in parser["typed_config"]["rules"]]
    json_rules = filters["envoy.filters.http.json_to_metadata"]["response_rules"]["rules"]
    for rules in (sse_rules, json_rules):
        (rule,) = [r for r in rules if r["on_present"]["key"] == key]
        assert [s["key"] for s in rule["selectors"]] == selectors
        assert rule["on_present"] == {
            "metadata_namespace": "gie.usage",
            "key": key,
            "type": "NUMBER",
        }


def test_message_timeout_is_configurable() -> None:
    assert _ext_proc(_config(message_timeout_s=90))["message_timeout"] == "90s"


def test_route_goes_to_original_dst_without_timeout() -> None:
    (vhost,) = _hcm(_config())["route_config"]["virtual_hosts"]
    (route,) = vhost["routes"]
    assert route["match"] == {"prefix": "/"}
    assert route["route"]["cluster"] == "original_dst"
    assert route["route"]["timeout"] == "0s"


def test_original_dst_cluster_reads_destination_header() -> None:
    cluster = _cluster(_config(), "original_dst")
    assert cluster["type"] == "ORIGINAL_DST"
    assert cluster["lb_policy"] == "CLUSTER_PROVIDED"
    assert cluster["original_dst_lb_config"] == {
        "use_http_header": True,
        "http_header_name": DESTINATION_HEADER,
    }
    assert DESTINATION_HEADER == "x-gateway-destination-endpoint"


def test_picker_cluster_is_http2_with_two_streams_per_connection() -> None:
    cluster = _cluster(_config(), "gie_picker")
    (locality,) = cluster["load_assignment"]["endpoints"]
    (endpoint,) = locality["lb_endpoints"]
    assert endpoint["endpoint"]["address"]["socket_address"] == {
        "address": "127.0.0.1",
        "port_value": 18082,
    }
    options = cluster["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert options["explicit_http_config"] == {
        "http2_protocol_options": {"max_concurrent_streams": 2}
    }


@pytest.mark.parametrize("with_log", [True, False], ids=["access-log", "no-access-log"])
def test_access_log_only_when_asked(with_log: bool, tmp_path: Path) -> None:
    path = tmp_path / "access.log" if with_log else None
    hcm = _hcm(_config(access_log_path=path, response_path=ResponsePath.EXT_PROC))
    if with_log:
        (log,) = hcm["access_log"]
        assert log["typed_config"]["path"] == str(path)
    else:
        assert "access_log" not in hcm


@pytest.mark.integration
def test_thread_watchdogs_wake_idle_threads_rarely_but_still_count_stalls() -> None:
    watchdogs = _config()["watchdogs"]
    for thread in ("main_thread_watchdog", "worker_watchdog"):
        settings = watchdogs[thread]
        # Envoy's 200 ms default makes every thread touch its watchdog 10 times a second.
        assert settings["miss_timeout"] == "1s"
        assert settings["megamiss_timeout"] == "5s"
        assert "kill_timeout" not in settings  # stalls are counted, never fatal


@pytest.mark.parametrize("response_path", list(ResponsePath), ids=lambda m: m.value)
@pytest.mark.parametrize("body_mode", list(BodyMode), ids=lambda m: m.value)
def test_envoy_accepts_the_config(
    body_mode: BodyMode, response_path: ResponsePath, tmp_path: Path
) -> None:
    config_file = tmp_path / "envoy.yaml"
    config = _config(
        body_mode,
        access_log_path=tmp_path / "access.log",
        response_path=response_path,
        pool_endpoints=["127.0.0.1:8001", "127.0.0.1:8002"],  # the route retries
    )
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = subprocess.run(
        [str(find_envoy()), "--mode", "validate", "-c", str(config_file), "--disable-hot-restart"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_picker_workers_are_listed_as_hosts_balanced_round_robin() -> None:
    config = build_envoy_config(
        gateway_port=1, admin_port=2, picker_grpc_port=3, picker_worker_ports=[10, 11, 12, 13]
    )
    cluster = next(c for c in config["static_resources"]["clusters"] if c["name"] == "gie_picker")
    hosts = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert [h["endpoint"]["address"]["socket_address"]["port_value"] for h in hosts] == [
        10,
        11,
        12,
        13,
    ]
    assert cluster["lb_policy"] == "ROUND_ROBIN"


def test_known_pool_routes_with_override_host_from_the_pickers_metadata() -> None:
    config = build_envoy_config(
        gateway_port=1,
        admin_port=2,
        picker_grpc_port=3,
        pool_endpoints=["127.0.0.1:8001", "127.0.0.1:8002"],
    )
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    assert "original_dst" not in clusters
    pool = clusters["pool"]
    ports = [
        h["endpoint"]["address"]["socket_address"]["port_value"]
        for h in pool["load_assignment"]["endpoints"][0]["lb_endpoints"]
    ]
    assert ports == [8001, 8002]
    policy = pool["load_balancing_policy"]["policies"][0]["typed_extension_config"]
    assert policy["name"] == "envoy.load_balancing_policies.override_host"
    assert policy["typed_config"]["override_host_sources"] == [
        {"metadata": {"key": "envoy.lb", "path": [{"key": "x-gateway-destination-endpoint"}]}}
    ]
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    route = hcm["typed_config"]["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    assert route["cluster"] == "pool"
    # A refused connection, a reset or a 503 moves the request to the next endpoint.
    retry = route["retry_policy"]
    assert set(retry["retry_on"].split(",")) >= {"connect-failure", "reset"}
    assert retry["retriable_status_codes"] == [503]
    assert retry["num_retries"] >= 1


def test_original_dst_routes_are_not_retried() -> None:
    # Without the pool's hosts a retry could only go to the same endpoint again.
    config = build_envoy_config(gateway_port=1, admin_port=2, picker_grpc_port=3)
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    route = hcm["typed_config"]["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    assert route["cluster"] == "original_dst"
    assert "retry_policy" not in route


def test_without_picker_tls_the_picker_cluster_is_plaintext() -> None:
    assert "transport_socket" not in _cluster(_config(), EXT_PROC_CLUSTER)


@pytest.mark.parametrize("mutual", [False, True], ids=["server-only", "mutual"])
def test_picker_tls_verifies_the_ca_and_the_name(mutual: bool, tmp_path: Path) -> None:
    tls = PickerTls(
        ca_file=tmp_path / "ca.pem",
        subject_alt_name="picker.gie.local",
        client_certificate=tmp_path / "envoy.pem" if mutual else None,
        client_key=tmp_path / "envoy-key.pem" if mutual else None,
    )
    socket = _cluster(_config(picker_tls=tls), EXT_PROC_CLUSTER)["transport_socket"]
    context = socket["typed_config"]
    assert context["@type"].endswith("UpstreamTlsContext")
    assert context["sni"] == "picker.gie.local"
    common = context["common_tls_context"]
    assert common["alpn_protocols"] == ["h2"]
    validation = common["validation_context"]
    assert validation["trusted_ca"] == {"filename": str(tmp_path / "ca.pem")}
    assert validation["match_typed_subject_alt_names"] == [
        {"san_type": "DNS", "matcher": {"exact": "picker.gie.local"}}
    ]
    if mutual:
        assert common["tls_certificates"] == [
            {
                "certificate_chain": {"filename": str(tmp_path / "envoy.pem")},
                "private_key": {"filename": str(tmp_path / "envoy-key.pem")},
            }
        ]
    else:
        assert "tls_certificates" not in common


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"subject_alt_name": ""}, "subject_alt_name"),
        ({"subject_alt_name": "p", "client_certificate": Path("c.pem")}, "client_key"),
    ],
    ids=["no-name", "cert-without-key"],
)
def test_picker_tls_refuses_half_configurations(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        PickerTls(ca_file=Path("ca.pem"), **kwargs)


@pytest.mark.integration
def test_envoy_accepts_the_config_with_picker_tls(tmp_path: Path) -> None:
    paths = LocalCA.create(tmp_path / "pki").issue("envoy", usage="client")
    tls = PickerTls(
        ca_file=paths.ca,
        subject_alt_name="picker.gie.local",
        client_certificate=paths.certificate,
        client_key=paths.key,
    )
    config_file = tmp_path / "envoy.yaml"
    config_file.write_text(yaml.safe_dump(_config(picker_tls=tls)), encoding="utf-8")
    result = subprocess.run(
        [str(find_envoy()), "--mode", "validate", "-c", str(config_file), "--disable-hot-restart"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_refused_or_reset_upstream_is_retried_without_envoys_retry_breaker() -> None:
    config = _config(pool_endpoints=["127.0.0.1:8001", "127.0.0.1:8002"])
    (vhost,) = _hcm(config)["route_config"]["virtual_hosts"]
    retry = vhost["routes"][0]["route"]["retry_policy"]
    assert {"connect-failure", "refused-stream", "reset"} <= set(retry["retry_on"].split(","))
    assert retry["num_retries"] >= 1
    # Envoy allows 3 concurrent retries per cluster by default: more would fail with UO.
    (limits,) = _cluster(config, "pool")["circuit_breakers"]["thresholds"]
    assert limits["max_retries"] >= 10_000
