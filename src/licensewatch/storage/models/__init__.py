"""The licensewatch tables; importing this registers every table on `Base.metadata`."""

from licensewatch.domain.schedule import SyncKind
from licensewatch.storage.models import audit as audit  # registers its table
from licensewatch.storage.models import growth as growth  # registers its tables
from licensewatch.storage.models import holders as holders  # registers its tables
from licensewatch.storage.models import intelligence as intelligence  # registers its tables
from licensewatch.storage.models import plans as plans  # registers its tables
from licensewatch.storage.models import read_models as read_models  # registers its tables
from licensewatch.storage.models import sso as sso  # registers its tables
from licensewatch.storage.models import usage as usage  # registers its tables
from licensewatch.storage.models.accounts import Account, ApiToken, Role, WebSession
from licensewatch.storage.models.activity import ChangeKind, LicenceChange, TenantSchedule
from licensewatch.storage.models.base import Base, UTCDateTime, utcnow
from licensewatch.storage.models.inventory import (
    Group,
    GroupLicense,
    Sku,
    SkuServicePlan,
    Subscription,
    User,
    UserLicense,
)
from licensewatch.storage.models.runs import SkuSnapshot, SyncRun, SyncStatus
from licensewatch.storage.models.tenants import Credential, CredentialKind, Tenant

__all__ = [
    "Account",
    "ApiToken",
    "Base",
    "ChangeKind",
    "Credential",
    "CredentialKind",
    "Group",
    "GroupLicense",
    "LicenceChange",
    "Role",
    "Sku",
    "SkuServicePlan",
    "SkuSnapshot",
    "Subscription",
    "SyncKind",
    "SyncRun",
    "SyncStatus",
    "Tenant",
    "TenantSchedule",
    "UTCDateTime",
    "User",
    "UserLicense",
    "WebSession",
    "utcnow",
]
