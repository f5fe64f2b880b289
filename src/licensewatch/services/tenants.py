"""Tenant onboarding use cases shared by the CLI and the web app (add, list, update, test...)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from licensewatch.domain.certificates import CertificateError, read_small_file
from licensewatch.domain.identifiers import (
    InvalidInput,
    parse_client_id,
    parse_https_url,
    parse_tenant,
    parse_tenant_name,
)
from licensewatch.domain.schedule import MAX_SYNC_INTERVAL
from licensewatch.graph.clouds import Cloud
from licensewatch.graph.connection import (
    CertificateCredential,
    ClientSecretCredential,
    Credential,
    GraphConnection,
)
from licensewatch.security.crypto import Keyring
from licensewatch.security.redaction import register_secret
from licensewatch.services.audit import append
from licensewatch.services.tenant_audit import changed_fields, credential_detail
from licensewatch.services.tenant_list import list_tenants
from licensewatch.services.tenant_lookup import TenantNotFound as TenantNotFound
from licensewatch.services.tenant_lookup import tenant_by_name
from licensewatch.services.tenant_views import CredentialView as CredentialView
from licensewatch.services.tenant_views import NewCredential as NewCredential
from licensewatch.services.tenant_views import SecretInput as SecretInput
from licensewatch.services.tenant_views import TenantSettings as TenantSettings
from licensewatch.services.tenant_views import TenantView as TenantView
from licensewatch.services.tenant_views import tenant_view as _view
from licensewatch.storage.database import read_transaction, session_scope
from licensewatch.storage.encrypted import keyring_for
from licensewatch.storage.models.tenants import Credential as CredentialRow
from licensewatch.storage.models.tenants import CredentialKind, Tenant

if TYPE_CHECKING:
    from licensewatch.graph.diagnostics import DiagnosticReport


class TenantExists(InvalidInput):
    """The name is taken (names compare case-insensitively)."""


def check_ca_bundle(value: str, *, from_web: bool = False) -> str:
    """The absolute path of a usable CA bundle: a PEM file, or (from the CLI) a directory.

    From the web every failure has one message: an administrator of the app must not learn
    whether some path exists on the server. Nothing is read beyond 1 MiB, nor from a device.
    """
    path = Path(value).expanduser().resolve()
    if path.is_dir() and not from_web:
        return str(path)
    try:
        data = read_small_file(path)
        problem = None if b"-----BEGIN CERTIFICATE-----" in data else "holds no PEM certificate"
    except FileNotFoundError:
        problem = "does not exist"
    except OSError as error:
        problem = f"cannot be read ({error.strerror})"
    except CertificateError as error:
        problem = str(error).removeprefix(f"{path} ")
    if problem is None:
        return str(path)
    if from_web:
        raise InvalidInput(f"CA bundle {value} is not a readable PEM file of CA certificates")
    raise InvalidInput(f"CA bundle {value} {problem}")


class TenantService:
    """One per request/command; the keyring is loaded (and a key file created) on first need."""

    def __init__(self, engine: Engine, keyring: Keyring | None = None) -> None:
        self.engine = engine
        self._keyring = keyring

    @property
    def keyring(self) -> Keyring:
        self._keyring = self._keyring or keyring_for(self.engine)
        return self._keyring

    def _get(self, session: Session, name: str) -> Tenant:
        return tenant_by_name(session, name)

    def list(self) -> list[TenantView]:
        with read_transaction(self.engine) as connection:
            return list_tenants(connection)

    def show(self, name: str) -> TenantView:
        with session_scope(self.engine, write=False) as session:
            return _view(self._get(session, name))

    def add(self, settings: TenantSettings) -> TenantView:
        missing = [f for f in ("name", "tenant_id", "client_id") if not getattr(settings, f)]
        if missing or settings.credential is None:
            raise InvalidInput(f"missing {', '.join(missing) or 'credential'} for a new tenant")
        with session_scope(self.engine) as session:
            tenant = Tenant(cloud=(settings.cloud or Cloud.GLOBAL).value)
            self._apply(session, tenant, settings)
            session.add(tenant)
            session.flush()
            detail = credential_detail(settings.credential)
            append(
                session,
                "tenant.added",
                {
                    "tenant": tenant.name,
                    "tenant_id": tenant.directory_id,
                    "client_id": tenant.client_id,
                    "cloud": tenant.cloud,
                    **detail,
                },
            )
            return _view(tenant)

    def update(self, name: str, settings: TenantSettings) -> TenantView:
        with session_scope(self.engine) as session:
            tenant = self._get(session, name)
            self._apply(session, tenant, settings)
            session.flush()
            # A new credential is a rotation, whatever else changed with it.
            action = "tenant.credential_rotated" if settings.credential else "tenant.changed"
            append(
                session,
                action,
                {
                    "tenant": tenant.name,
                    "renamed_from": None if name == tenant.name else name,
                    "changed": changed_fields(settings),
                    **credential_detail(settings.credential),
                },
            )
            return _view(tenant)

    def _apply(self, session: Session, tenant: Tenant, changes: TenantSettings) -> None:
        if changes.name is not None:
            new_name = parse_tenant_name(changes.name)
            clash = session.scalar(
                select(Tenant.id).where(func.lower(Tenant.name) == new_name.lower())
            )
            if clash is not None and clash != tenant.id:
                raise TenantExists(f"a tenant named {new_name!r} exists already: pick another name")
            tenant.name = new_name
        if changes.tenant_id is not None:
            tenant.directory_id = parse_tenant(changes.tenant_id)
            tenant.resolved_tenant_id = None
        if changes.client_id is not None:
            tenant.client_id = parse_client_id(changes.client_id)
        if changes.cloud is not None:
            tenant.cloud = Cloud(changes.cloud).value
        if changes.default_endpoints:
            tenant.authority_host = tenant.graph_endpoint = None
        if changes.authority_host is not None or changes.graph_endpoint is not None:
            authority = changes.authority_host or tenant.authority_host
            graph = changes.graph_endpoint or tenant.graph_endpoint
            if (authority is None) != (graph is None):
                raise InvalidInput("--authority-host and --graph-endpoint go together: give both")
            tenant.authority_host = parse_https_url(authority or "", "--authority-host")
            tenant.graph_endpoint = parse_https_url(graph or "", "--graph-endpoint")
        if changes.default_ca_bundle:
            tenant.ca_bundle = None
        if changes.ca_bundle is not None:
            tenant.ca_bundle = check_ca_bundle(
                changes.ca_bundle, from_web=changes.ca_bundle_from_web
            )
        if changes.sync_interval is not None:
            if changes.sync_interval > MAX_SYNC_INTERVAL:
                raise InvalidInput(f"the sync interval is at most {MAX_SYNC_INTERVAL.days} days")
            tenant.sync_interval_seconds = max(int(changes.sync_interval.total_seconds()), 60)
        if changes.credential is not None:
            row = self._credential_row(changes.credential)
            if tenant.credential is not None:
                session.delete(tenant.credential)
                session.flush()
            tenant.credential = row

    def remove(self, name: str) -> None:
        """Deletes the tenant and, by database cascade, its credential, runs, users and SKUs."""
        with session_scope(self.engine) as session:
            tenant = self._get(session, name)
            gone = {"tenant": tenant.name, "tenant_id": tenant.directory_id}
            session.execute(delete(Tenant).where(Tenant.id == tenant.id))
            append(session, "tenant.removed", gone)

    def record_identity(self, name: str, tenant_id: str | None) -> None:
        """Stores the tenant GUID a successful test learnt (the token's tid)."""
        with session_scope(self.engine) as session:
            self._get(session, name).resolved_tenant_id = tenant_id

    def _credential_row(self, credential: NewCredential) -> CredentialRow:
        """A new row whose ciphertext is the Fernet-encrypted JSON of the secret or key + cert."""
        if isinstance(credential, SecretInput):
            sealed = self.keyring.encrypt(json.dumps({"secret": credential.value}).encode())
            expires = credential.expires_at
            return CredentialRow(
                kind=CredentialKind.SECRET, ciphertext=sealed, secret_expires_at=expires
            )
        pems = {
            "private_key_pem": credential.private_key_pem,
            "certificate_pem": credential.certificate_pem,
        }
        sealed = self.keyring.encrypt(json.dumps({k: v.decode() for k, v in pems.items()}).encode())
        return CredentialRow(
            kind=CredentialKind.CERTIFICATE,
            ciphertext=sealed,
            thumbprint=credential.thumbprint,
            certificate_not_after=credential.not_after,
        )

    def _decrypt(self, row: CredentialRow) -> Credential:
        payload = json.loads(self.keyring.decrypt(bytes(row.ciphertext)))
        if row.kind == CredentialKind.SECRET:
            register_secret(payload["secret"])
            return ClientSecretCredential(payload["secret"])
        return CertificateCredential(
            private_key_pem=payload["private_key_pem"].encode("ascii"),
            certificate_pem=payload["certificate_pem"].encode("ascii"),
        )

    def connection_for(self, tenant: str | Tenant) -> GraphConnection:
        """The Graph connection of a tenant (by name or row), with its credential decrypted."""
        if isinstance(tenant, str):
            with session_scope(self.engine, write=False) as session:
                return self.connection_for(self._get(session, tenant))
        row = tenant.credential
        if row is None:
            raise InvalidInput(
                f"tenant {tenant.name!r} has no credential: `tenant update {tenant.name} "
                "--client-secret-stdin` or `--certificate FILE`"
            )
        return GraphConnection(
            tenant=tenant.directory_id,
            client_id=tenant.client_id,
            credential=self._decrypt(row),
            cloud=Cloud(tenant.cloud),
            authority_host=tenant.authority_host,
            graph_endpoint=tenant.graph_endpoint,
            ca_bundle=tenant.ca_bundle,
        )

    def test(self, name: str) -> DiagnosticReport:
        """Runs the setup diagnostics (token, consent, each endpoint, writes) against the tenant."""
        # Imported here: it loads MSAL and httpx, which listing or changing tenants never needs.
        from licensewatch.graph.diagnostics import diagnose

        with session_scope(self.engine, write=False) as session:
            tenant = self._get(session, name)
            connection, allowed = self.connection_for(tenant), tenant.allow_writes
        return diagnose(connection, writes_allowed=allowed)
