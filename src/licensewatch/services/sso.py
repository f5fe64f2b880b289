"""Entra ID single sign-on use cases: configure it, start and finish a sign-in, SSO accounts."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, delete, select

from licensewatch.domain.certificates import ClientCertificate
from licensewatch.domain.identifiers import (
    InvalidInput,
    parse_client_id,
    parse_guid,
    parse_https_url,
    parse_tenant,
)
from licensewatch.domain.sso import MULTI_TENANT_AUTHORITY, role_from_claims
from licensewatch.graph.clouds import Cloud
from licensewatch.graph.connection import CertificateCredential, ClientSecretCredential
from licensewatch.graph.oidc import OidcClient, SignedIn, SignInError, SsoConnection
from licensewatch.security.crypto import Keyring
from licensewatch.services.accounts import Principal, scope_of
from licensewatch.services.audit import append, record
from licensewatch.services.tenants import SecretInput
from licensewatch.storage.database import session_scope
from licensewatch.storage.encrypted import keyring_for
from licensewatch.storage.models.accounts import Account, Role
from licensewatch.storage.models.base import utcnow
from licensewatch.storage.models.sso import SsoPending, SsoSettings
from licensewatch.storage.models.tenants import CredentialKind

PENDING_LIFETIME = timedelta(minutes=15)  # a sign-in page left open longer starts again
LOCAL_SIGN_IN = ("all", "admins")
_ROW = 1
# Never a usable Argon2 hash: an SSO account cannot sign in with a password.
NO_PASSWORD = "!sso"  # noqa: S105 - a marker, not a password


@dataclass(frozen=True)
class SsoInput:
    """What `sso configure` (or a test) gives: the web app registration and the role mapping."""

    tenant_id: str
    client_id: str
    credential: SecretInput | ClientCertificate
    authority_host: str | None = None
    graph_endpoint: str | None = None
    ca_bundle: str | None = None
    admin_groups: tuple[str, ...] = ()
    viewer_groups: tuple[str, ...] = ()
    allowed_tenants: tuple[str, ...] = ()
    local_sign_in: str = "all"
    scope_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class SsoView:
    """The settings as shown (never the secret or the key)."""

    enabled: bool
    tenant_id: str
    client_id: str
    credential: str
    authority_host: str
    graph_endpoint: str
    ca_bundle: str | None
    admin_groups: list[str] = field(default_factory=list)
    viewer_groups: list[str] = field(default_factory=list)
    allowed_tenants: list[str] = field(default_factory=list)
    local_sign_in: str = "all"
    scope_groups: dict[str, list[str]] = field(default_factory=dict)

    @property
    def multi_tenant(self) -> bool:
        return self.tenant_id == MULTI_TENANT_AUTHORITY

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "multi_tenant": self.multi_tenant}


def _guid_list(values: tuple[str, ...], what: str) -> list[str]:
    return [parse_guid(v, f"{what} (an object ID)") for v in values]


def _url(value: str | None, option: str) -> str | None:
    return parse_https_url(value, option) if value else None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class SsoService:
    def __init__(self, engine: Engine, keyring: Keyring | None = None) -> None:
        self.engine = engine
        self._keyring = keyring

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            self._keyring = keyring_for(self.engine)
        return self._keyring

    # ---- settings ------------------------------------------------------------------------------
    def configure(self, given: SsoInput) -> SsoView:
        tenant = given.tenant_id.strip()
        multi = tenant.lower() == MULTI_TENANT_AUTHORITY
        tenant = MULTI_TENANT_AUTHORITY if multi else parse_tenant(tenant)
        if given.local_sign_in not in LOCAL_SIGN_IN:
            raise InvalidInput(f"--local-sign-in is 'all' or 'admins' (not {given.local_sign_in})")
        if isinstance(given.credential, SecretInput):
            kind, payload = CredentialKind.SECRET, {"secret": given.credential.value}
        else:
            kind = CredentialKind.CERTIFICATE
            payload = {
                "private_key_pem": given.credential.private_key_pem.decode("ascii"),
                "certificate_pem": given.credential.certificate_pem.decode("ascii"),
            }
        values = {
            "enabled": True,
            "tenant_id": tenant,
            "client_id": parse_client_id(given.client_id),
            "credential_kind": kind.value,
            "ciphertext": self.keyring.encrypt(json.dumps(payload).encode()),
            "authority_host": _url(given.authority_host, "--authority-host"),
            "graph_endpoint": _url(given.graph_endpoint, "--graph-endpoint"),
            "ca_bundle": given.ca_bundle,
            "admin_groups": _guid_list(given.admin_groups, "--admin-group"),
            "viewer_groups": _guid_list(given.viewer_groups, "--viewer-group"),
            "allowed_tenants": _guid_list(given.allowed_tenants, "--allowed-tenant"),
            "local_sign_in": given.local_sign_in,
            "scope_groups": {
                parse_guid(group, "--scope-group (an object ID)"): sorted(set(tenants))
                for group, tenants in given.scope_groups.items()
            },
        }
        with session_scope(self.engine) as session:
            row = session.get(SsoSettings, _ROW)
            if row is None:
                row = SsoSettings(id=_ROW, **values)
                session.add(row)
            else:
                for name, value in values.items():
                    setattr(row, name, value)
            session.flush()
            detail = {"tenant_id": tenant, "client_id": row.client_id, "credential": kind.value}
            append(session, "sso.configured", {**detail, "local_sign_in": given.local_sign_in})
            return _view(row)

    def show(self) -> SsoView | None:
        with session_scope(self.engine, write=False) as session:
            row = session.get(SsoSettings, _ROW)
            return None if row is None else _view(row)

    def disable(self) -> bool:
        """Turns SSO off (local accounts sign in again); the settings are kept for `configure`."""
        with session_scope(self.engine) as session:
            row = session.get(SsoSettings, _ROW)
            if row is None or not row.enabled:
                return False
            row.enabled = False
            append(session, "sso.disabled")
            return True

    def enabled_view(self) -> SsoView | None:
        view = self.show()
        return view if view is not None and view.enabled else None

    def connection(self) -> SsoConnection:
        with session_scope(self.engine, write=False) as session:
            row = session.get(SsoSettings, _ROW)
            if row is None or not row.enabled:
                raise SignInError("disabled", "Single sign-on is not configured")
            payload = json.loads(self.keyring.decrypt(bytes(row.ciphertext)))
            credential: ClientSecretCredential | CertificateCredential
            if row.credential_kind == CredentialKind.SECRET:
                credential = ClientSecretCredential(payload["secret"])
            else:
                credential = CertificateCredential(
                    payload["private_key_pem"].encode("ascii"),
                    payload["certificate_pem"].encode("ascii"),
                )
            return SsoConnection(
                tenant=row.tenant_id,
                client_id=row.client_id,
                credential=credential,
                authority_host=row.authority_host or Cloud.GLOBAL.authority_host,
                graph_endpoint=row.graph_endpoint or Cloud.GLOBAL.graph_endpoint,
                ca_bundle=row.ca_bundle,
            )

    # ---- a sign-in -----------------------------------------------------------------------------
    def begin(self, redirect_uri: str, next_url: str) -> tuple[str, str]:
        """(browser cookie value, authorize URL): the flow is kept here, keyed by the cookie."""
        client = OidcClient(self.connection())
        try:
            flow = client.begin(redirect_uri)
        finally:
            client.close()
        cookie = secrets.token_urlsafe(32)
        sealed = self.keyring.encrypt(json.dumps(flow).encode())
        with session_scope(self.engine) as session:
            session.execute(
                delete(SsoPending).where(SsoPending.created_at < utcnow() - PENDING_LIFETIME)
            )
            session.add(
                SsoPending(
                    id_hash=_digest(cookie),
                    state_hash=_digest(str(flow["state"])),
                    flow=sealed,
                    next_url=next_url,
                )
            )
        return cookie, str(flow["auth_uri"])

    def keep_answer(self, answer: dict[str, str]) -> str | None:
        """Entra's form_post answer, kept until the browser returns; its state (None: unknown)."""
        state = answer.get("state", "")
        with session_scope(self.engine) as session:
            query = select(SsoPending).where(SsoPending.state_hash == _digest(state))
            row = session.scalars(query).first()
            if not state or row is None or row.answer is not None:
                return None
            row.answer = self.keyring.encrypt(json.dumps(answer).encode())
        return state

    def _take_pending(
        self, cookie: str | None, state: str | None
    ) -> tuple[dict[str, Any], dict[str, str], str]:
        """This browser's sign-in and Entra's answer to it, used once (a replay finds nothing)."""
        if not cookie:
            raise SignInError("state", "This browser started no sign-in (cookies blocked?)")
        with session_scope(self.engine) as session:
            row = session.get(SsoPending, _digest(cookie))
            if row is not None:
                session.delete(row)  # committed whatever follows: one try per sign-in
        if row is None or row.created_at < utcnow() - PENDING_LIFETIME:
            raise SignInError("state", "The sign-in expired or was already used; start again")
        if row.answer is None or row.state_hash != _digest(state or ""):
            raise SignInError("state", "Entra ID's answer is not for this browser's sign-in")
        flow = json.loads(self.keyring.decrypt(bytes(row.flow)))
        answer = json.loads(self.keyring.decrypt(bytes(row.answer)))
        return flow, answer, row.next_url

    def complete(
        self, cookie: str | None, state: str | None, address: str | None
    ) -> tuple[Principal, str]:
        """Checks everything, maps the role and returns the account to start a session for."""
        try:
            flow, response, next_url = self._take_pending(cookie, state)
            view = self.enabled_view()
            if view is None:
                raise SignInError("disabled", "Single sign-on is not configured")
            client = OidcClient(self.connection())
            try:
                person = client.complete(flow, response)
                self._check_tenant(view, person)
                groups = self._groups(view, client, person)
                role = self._role(view, person, groups)
            finally:
                client.close()
            principal = self._provision(person, role, _scope(view, role, groups))
        except SignInError as exc:
            record(self.engine, "sso.sign_in", None, address, "refused", f"{exc.reason}: {exc}")
            raise
        record(self.engine, "sso.sign_in", principal.username, address, "ok", f"role {role.value}")
        return principal, next_url

    @staticmethod
    def _check_tenant(view: SsoView, person: SignedIn) -> None:
        allowed = view.allowed_tenants
        if view.multi_tenant and allowed and person.tenant_id not in allowed:
            raise SignInError("tenant", f"Sign-ins from tenant {person.tenant_id} are not allowed")

    @staticmethod
    def _groups(view: SsoView, client: OidcClient, person: SignedIn) -> set[str]:
        """The person's groups among those the settings name (Graph asked on overage)."""
        configured = {*view.admin_groups, *view.viewer_groups, *view.scope_groups}
        if person.groups is None:
            return client.member_of(person, sorted(configured)) if configured else set()
        return set(person.groups) & configured

    @staticmethod
    def _role(view: SsoView, person: SignedIn, groups: set[str]) -> Role:
        mapped = role_from_claims(person.app_roles, groups, view.admin_groups, view.viewer_groups)
        if mapped is None:
            raise SignInError(
                "no_role",
                f"{person.username} has no licensewatch role: an Entra admin assigns the app role "
                "licensewatch.Admin or licensewatch.Viewer (Enterprise applications > "
                "licensewatch > Users and groups), or adds the person to a mapped group",
            )
        return Role(mapped)

    def _provision(self, person: SignedIn, role: Role, tenants: list[str] | None) -> Principal:
        """The SSO account of this person (created on first sign-in), role refreshed each time."""
        external = f"{person.tenant_id}:{person.object_id}"
        with session_scope(self.engine) as session:
            query = select(Account).where(Account.external_id == external)
            account = session.scalars(query).first()
            if account is None:
                username = person.username
                if session.scalars(select(Account.id).where(Account.username == username)).first():
                    username = f"{person.username}#{person.object_id[:8]}"
                account = Account(
                    username=username[:150],
                    password_hash=NO_PASSWORD,
                    source="sso",
                    external_id=external,
                )
                session.add(account)
            if account.disabled:
                raise SignInError("disabled_account", f"{account.username} is disabled here")
            account.role = role.value
            account.tenant_scope = tenants
            account.last_login_at = utcnow()
            session.flush()
            return Principal(account.id, account.username, role, scope_of(role, tenants))


def _view(row: SsoSettings) -> SsoView:
    return SsoView(
        enabled=row.enabled,
        tenant_id=row.tenant_id,
        client_id=row.client_id,
        credential=row.credential_kind,
        authority_host=row.authority_host or Cloud.GLOBAL.authority_host,
        graph_endpoint=row.graph_endpoint or Cloud.GLOBAL.graph_endpoint,
        ca_bundle=row.ca_bundle,
        admin_groups=list(row.admin_groups),
        viewer_groups=list(row.viewer_groups),
        allowed_tenants=list(row.allowed_tenants),
        local_sign_in=row.local_sign_in,
        scope_groups={str(k): list(v) for k, v in row.scope_groups.items()},
    )


def _scope(view: SsoView, role: Role, groups: set[str]) -> list[str] | None:
    """A viewer in scope groups sees their tenants only; anyone else sees every tenant."""
    if role is Role.ADMIN:
        return None
    matched = [view.scope_groups[g] for g in groups if g in view.scope_groups]
    return sorted({t for tenants in matched for t in tenants}) if matched else None
