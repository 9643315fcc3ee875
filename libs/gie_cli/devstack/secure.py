"""``gie up --secure``: the credentials of the secure local stack, made at start.

:class:`SecureStack` is the one place every secured channel of the stack takes its
credentials from: a local CA (:mod:`~gie_cli.devstack.local_ca`) in ``<data dir>/pki``
(removed by ``gie down``), a certificate per party, and the ``GIE_*`` settings and
gateway configuration that use them. Today it covers the gRPC channels:

* ext_proc (Envoy → picker): the picker serves a certificate naming
  :data:`PICKER_NAME`; Envoy verifies it against the CA and that name, and presents
  its own client certificate, which the picker requires (mutual TLS);
* FlowControl (picker → flow-controller): the same, with :data:`FLOW_CONTROLLER_NAME`
  and the picker's certificate as the client's.

* the bus and the flow state: nats-server and redis-server serve TLS only, with a
  certificate naming :data:`BUS_NAME`; every service connects to NATS as its own user
  with the permissions of :mod:`gie.security.nats_permissions`, the flow-controller to
  Redis as its ACL user (:mod:`gie.security.redis_acl`); the passwords are random,
  one file each in ``<data dir>/pki/secrets`` (:mod:`~gie_cli.devstack.secure_bus`),
  with one more for the third-party reader, ``gie-reader``.

A new secured channel adds its certificates in :meth:`SecureStack.create` and its
settings in :meth:`SecureStack.service_env`.
Every certificate also names ``localhost`` and ``127.0.0.1``: the stack binds
loopback only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gie_cli.devstack.envoy_config import PickerTls
from gie_cli.devstack.local_ca import (
    LOCAL_DNS_NAMES,
    LOCAL_IP_ADDRESSES,
    CertificatePaths,
    LocalCA,
)
from gie_cli.devstack.secure_bus import BusSecrets, SecureBus, TlsFiles

__all__ = ["BUS_NAME", "FLOW_CONTROLLER_NAME", "PICKER_NAME", "SecureStack"]

PICKER_NAME = "picker.gie.local"
FLOW_CONTROLLER_NAME = "flow-controller.gie.local"
ENVOY_NAME = "envoy.gie.local"
BUS_NAME = "bus.gie.local"


def _names(name: str) -> tuple[str, ...]:
    return (name, *LOCAL_DNS_NAMES)


@dataclass(frozen=True)
class SecureStack:
    """The secure stack's CA and certificates (paths), and what each part is given."""

    ca: LocalCA
    picker: CertificatePaths  # ext_proc server; FlowControl client
    flow_controller: CertificatePaths  # FlowControl server
    envoy: CertificatePaths  # ext_proc client
    bus_server: CertificatePaths  # nats-server's and redis-server's
    bus: SecureBus  # NATS and Redis users and passwords

    @classmethod
    def create(cls, directory: Path) -> SecureStack:
        """Make the CA and every certificate in ``directory`` (0700, keys 0600)."""
        ca = LocalCA.create(directory, common_name="gie local stack CA")
        return cls(
            ca=ca,
            picker=ca.issue(
                "picker", dns_names=_names(PICKER_NAME), ip_addresses=LOCAL_IP_ADDRESSES
            ),
            flow_controller=ca.issue(
                "flow-controller",
                dns_names=_names(FLOW_CONTROLLER_NAME),
                ip_addresses=LOCAL_IP_ADDRESSES,
                usage="server",
            ),
            envoy=ca.issue("envoy", dns_names=(ENVOY_NAME,), ip_addresses=(), usage="client"),
            bus_server=ca.issue(
                "bus",
                dns_names=_names(BUS_NAME),
                ip_addresses=LOCAL_IP_ADDRESSES,
                usage="server",
            ),
            bus=SecureBus(secrets=BusSecrets.create(directory / "secrets"), ca=ca.ca_path),
        )

    @property
    def bus_tls(self) -> TlsFiles:
        """The certificate nats-server and redis-server serve."""
        paths = self.bus_server
        return TlsFiles(ca=paths.ca, cert=paths.certificate, key=paths.key)

    def service_env(self, service: str) -> dict[str, str]:
        """The ``GIE_*`` TLS and credential settings of ``service``."""
        return {**self._grpc_env(service), **self.bus.service_env(service)}

    def _grpc_env(self, service: str) -> dict[str, str]:
        if service == "picker":
            return {
                **_server_env(self.picker),
                "GIE_FLOW_CONTROL_TLS_CA_FILE": str(self.ca.ca_path),
                "GIE_FLOW_CONTROL_TLS_SERVER_NAME": FLOW_CONTROLLER_NAME,
                "GIE_FLOW_CONTROL_TLS_CERT_FILE": str(self.picker.certificate),
                "GIE_FLOW_CONTROL_TLS_KEY_FILE": str(self.picker.key),
            }
        if service == "flow-controller":
            return _server_env(self.flow_controller)
        return {}

    def picker_tls(self) -> PickerTls:
        """How the gateway verifies the picker and proves itself to it."""
        return PickerTls(
            ca_file=self.ca.ca_path,
            subject_alt_name=PICKER_NAME,
            client_certificate=self.envoy.certificate,
            client_key=self.envoy.key,
        )


def _server_env(paths: CertificatePaths) -> dict[str, str]:
    return {
        "GIE_GRPC_TLS_CERT_FILE": str(paths.certificate),
        "GIE_GRPC_TLS_KEY_FILE": str(paths.key),
        "GIE_GRPC_TLS_CLIENT_CA_FILE": str(paths.ca),
    }
