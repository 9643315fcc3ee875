"""global.tls.extProc: the picker serves ext_proc with its Secret's certificate, and the
standalone Envoy verifies it (CA and name) and presents its own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from gie_cli.devstack.local_ca import LocalCA
from tests.chart.test_chart_standalone import STANDALONE, bootstrap, cluster, envoy
from tests.support.chart import CHART, NAMESPACE, RELEASE, Obj, env_of, named, render, run_helm

TLS = (
    "global.tls.extProc.enabled=true",
    "global.tls.extProc.serverSecret=picker-tls",
    "global.tls.extProc.clientSecret=envoy-tls",
)


def _picker(rendered: tuple[Obj, ...]) -> Obj:
    deployment = named(rendered, "Deployment", "gie-picker")
    container: Obj = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def _volumes(rendered: tuple[Obj, ...], name: str) -> dict[str, Obj]:
    spec = named(rendered, "Deployment", name)["spec"]["template"]["spec"]
    return {volume["name"]: volume for volume in spec["volumes"]}


def test_off_by_default_plaintext_and_grpc_probes() -> None:
    rendered = render(STANDALONE)
    picker = _picker(rendered)
    assert not any(name.startswith("GIE_GRPC_TLS") for name in env_of(picker))
    assert picker["readinessProbe"]["grpc"]["service"] == "readiness"
    assert "transport_socket" not in cluster(bootstrap(rendered), "gie_picker")


def test_the_picker_serves_its_secret_and_is_probed_on_the_admin_port() -> None:
    rendered = render(STANDALONE, *TLS)
    picker = _picker(rendered)
    env = env_of(picker)
    assert env["GIE_GRPC_TLS_CERT_FILE"] == "/etc/gie/tls/ext-proc/tls.crt"
    assert env["GIE_GRPC_TLS_KEY_FILE"] == "/etc/gie/tls/ext-proc/tls.key"
    assert env["GIE_GRPC_TLS_CLIENT_CA_FILE"] == "/etc/gie/tls/ext-proc/ca.crt"
    # A volume, not a subPath: the kubelet updates a rotated Secret's files in place.
    (mount,) = [m for m in picker["volumeMounts"] if m["name"] == "ext-proc-tls"]
    assert mount == {"name": "ext-proc-tls", "mountPath": "/etc/gie/tls/ext-proc", "readOnly": True}
    assert _volumes(rendered, "gie-picker")["ext-proc-tls"]["secret"]["secretName"] == "picker-tls"
    # kubelet's gRPC probes cannot speak TLS.
    assert picker["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "admin"}
    assert picker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "admin"}


def test_without_mutual_tls_the_picker_asks_no_client_certificate() -> None:
    rendered = render(STANDALONE, *TLS, "global.tls.extProc.mutual=false")
    assert "GIE_GRPC_TLS_CLIENT_CA_FILE" not in env_of(_picker(rendered))
    common = cluster(bootstrap(rendered), "gie_picker")["transport_socket"]["typed_config"][
        "common_tls_context"
    ]
    assert "tls_certificates" not in common


def test_envoy_verifies_the_pickers_ca_and_name() -> None:
    rendered = render(STANDALONE, *TLS)
    context = cluster(bootstrap(rendered), "gie_picker")["transport_socket"]["typed_config"]
    name = f"gie-picker.{NAMESPACE}.svc"
    assert context["sni"] == name
    validation = context["common_tls_context"]["validation_context"]
    assert validation["trusted_ca"] == {"filename": "/etc/envoy-tls/ca.crt"}
    assert validation["match_typed_subject_alt_names"] == [
        {"san_type": "DNS", "matcher": {"exact": name}}
    ]
    assert _volumes(rendered, "gie-envoy")["ext-proc-tls"]["secret"]["secretName"] == "envoy-tls"
    custom = render(STANDALONE, *TLS, "global.tls.extProc.subjectAltName=epp.example.org")
    context = cluster(bootstrap(custom), "gie_picker")["transport_socket"]["typed_config"]
    assert context["sni"] == "epp.example.org"


def test_a_missing_secret_name_is_an_error_naming_the_value() -> None:
    result = run_helm(
        "template", RELEASE, CHART, "-f", STANDALONE, "--set", "global.tls.extProc.enabled=true"
    )
    assert result.returncode != 0
    assert "serverSecret" in result.stderr


def test_envoy_accepts_the_rendered_tls_bootstrap(tmp_path: Path) -> None:
    paths = LocalCA.create(tmp_path / "pki").issue("envoy", usage="client")
    text = named(render(STANDALONE, *TLS), "ConfigMap", "gie-envoy")["data"]["envoy.yaml"]
    for name, path in (
        ("ca.crt", paths.ca),
        ("tls.crt", paths.certificate),
        ("tls.key", paths.key),
    ):
        text = text.replace(f"/etc/envoy-tls/{name}", str(path))
    config_path = tmp_path / "envoy.yaml"
    config_path.write_text(yaml.safe_dump(yaml.safe_load(text)))
    result = subprocess.run(
        [envoy(), "--mode", "validate", "-c", str(config_path), "--log-level", "error"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_picker_services_claim_h2c_only_without_tls() -> None:
    """kubernetes.io/h2c is cleartext HTTP/2: a gateway that picks the protocol from
    appProtocol would speak it to a TLS port. With TLS none is set."""
    for sets, expected in (((), {"kubernetes.io/h2c"}), (TLS, {None})):
        rendered = render(STANDALONE, *sets)
        for name in ("gie-picker", "gie-picker-headless"):
            ports = named(rendered, "Service", name)["spec"]["ports"]
            grpc = [port for port in ports if not port["name"].startswith("admin")]
            assert grpc, name
            assert {port.get("appProtocol") for port in grpc} == expected, (name, sets)
