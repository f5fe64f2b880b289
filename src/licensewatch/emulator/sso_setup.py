"""A web app registration that signs people in, with app roles and people to sign in as."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from licensewatch.emulator.apps import App, ClientSecret
from licensewatch.emulator.signin import GROUPS_LIMIT
from licensewatch.emulator.state import Group, Tenant, User, utcnow

ADMIN_ROLE = "licensewatch.Admin"
VIEWER_ROLE = "licensewatch.Viewer"
PASSWORD = "Sign-in-Passw0rd!"  # every seeded person's password (the emulator's secrets are fake)


@dataclass(frozen=True)
class SsoSetup:
    """What an admin would copy from Entra, plus the seeded people (name -> userPrincipalName).

    People: `admin` holds the Admin app role; `viewer` gets the Viewer role through the
    `viewers_group`; `norole` has neither; `grouped` is only in `admins_group` (for group
    mapping); `overage` is in more groups than a token can list, `admins_group` among them.
    """

    client_id: str
    client_secret: str
    admins_group: str
    viewers_group: str
    people: dict[str, str]
    password: str = PASSWORD

    def to_dict(self) -> dict[str, object]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "admins_group": self.admins_group,
            "viewers_group": self.viewers_group,
            "people": self.people,
            "password": self.password,
        }


def _group(tenant: Tenant, name: str) -> Group:
    gid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"group:{tenant.tenant_id}:{name}"))
    return tenant.groups.setdefault(gid, Group(gid, name, name.lower().replace(" ", "-")))


def _person(tenant: Tenant, name: str) -> User:
    upn = f"sso.{name}@{tenant.domain}"
    existing = tenant.user(upn)
    if existing is not None:
        return existing
    uid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"person:{tenant.tenant_id}:{name}"))
    person = User(uid, upn, f"SSO {name.title()}", mail=upn, password=PASSWORD)
    return tenant.add_user(person)


def add_sso_app(
    tenant: Tenant, redirect_uris: list[str], *, client_id: str | None = None
) -> SsoSetup:
    """Registers (or extends) the licensewatch web app in a tenant; idempotent per tenant.

    With `client_id`, the app is a multi-tenant one from another tenant (an MSP's), consented
    here too: the same id and secret work in both.
    """
    client_id = client_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"sso-app:{tenant.tenant_id}"))
    app = tenant.apps.get(client_id)
    if app is None:
        app = App(client_id, "licensewatch web", roles={"GroupMember.Read.All"})
        secret = f"sso~{uuid.uuid5(uuid.NAMESPACE_URL, client_id).hex}"
        app.secrets.append(
            ClientSecret(str(uuid.uuid4()), secret, "web", utcnow() + timedelta(days=365))
        )
        for value in (ADMIN_ROLE, VIEWER_ROLE):
            app.app_roles[value] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{client_id}:{value}"))
        tenant.apps[client_id] = app
    app.redirect_uris.extend(uri for uri in redirect_uris if uri not in app.redirect_uris)
    admins, viewers = _group(tenant, "licensewatch admins"), _group(tenant, "licensewatch viewers")
    people = {
        name: _person(tenant, name) for name in ("admin", "viewer", "norole", "grouped", "overage")
    }
    app.role_assignments.setdefault(people["admin"].id, set()).add(ADMIN_ROLE)
    app.role_assignments.setdefault(viewers.id, set()).add(VIEWER_ROLE)
    for group, name in ((viewers, "viewer"), (admins, "grouped"), (admins, "overage")):
        if people[name].id not in group.member_ids:
            group.member_ids.append(people[name].id)
    for n in range(GROUPS_LIMIT + 1):  # enough groups for the overage claim
        extra = _group(tenant, f"project {n:03d}")
        if people["overage"].id not in extra.member_ids:
            extra.member_ids.append(people["overage"].id)
    return SsoSetup(
        client_id,
        app.secrets[0].value,
        admins.id,
        viewers.id,
        {name: user.user_principal_name for name, user in people.items()},
    )
