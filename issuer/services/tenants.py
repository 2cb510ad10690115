"""Looking up the tenant a request names, and what it may issue."""

from __future__ import annotations

from tsunagu.credential_types import CredentialType, credential_type
from tsunagu.oid4vci import UnknownCredentialConfiguration

from ..errors import UnknownTenant
from ..settings import IssuerSettings, IssuerTenant

__all__ = ["get_tenant", "tenant_credential_type"]


def get_tenant(settings: IssuerSettings, tenant_id: str) -> IssuerTenant:
    """Raises: UnknownTenant."""
    tenant = settings.tenant(tenant_id)
    if tenant is None:
        raise UnknownTenant("no issuing organisation of that id is hosted here")
    return tenant


def tenant_credential_type(tenant: IssuerTenant, configuration_id: str) -> CredentialType:
    """The credential type ``configuration_id`` names, if this tenant issues it.

    Raises:
        UnknownCredentialConfiguration: the tenant does not issue that configuration.
    """
    if configuration_id not in tenant.credential_configuration_ids:
        raise UnknownCredentialConfiguration(f"{tenant.name_en} does not issue this credential configuration")
    return credential_type(configuration_id)
