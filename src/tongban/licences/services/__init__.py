"""Every write of the e-licence library, by use case:

- ``types``: ``licence_type_save``, ``licence_types_import`` (the data bureau);
- ``issuing``: ``licence_issue`` (a case's delivery, the system);
- ``lifecycle``: ``licence_change``, ``licence_revoke``, ``licences_expire`` (the state machine
  ``TRANSITIONS``);
- ``wallet``: ``authorization_grant``, ``authorization_revoke`` (授权用证, the holder) and
  ``licence_use`` (the authorised department; recorded in the exchange log);
- ``notify``: telling the holder (announced: ``scheduling.announcements``).
"""

from .issuing import Holder, licence_issue, licence_type_for_result
from .lifecycle import (
    TRANSITIONS,
    LicenceActions,
    available_actions,
    licence_change,
    licence_revoke,
    licences_expire,
)
from .types import LicenceTypeData, licence_type_check, licence_type_save, licence_types_import
from .wallet import authorization_grant, authorization_revoke, licence_use

__all__ = [
    "TRANSITIONS",
    "Holder",
    "LicenceActions",
    "LicenceTypeData",
    "authorization_grant",
    "authorization_revoke",
    "available_actions",
    "licence_change",
    "licence_issue",
    "licence_revoke",
    "licence_type_check",
    "licence_type_for_result",
    "licence_type_save",
    "licence_types_import",
    "licence_use",
    "licences_expire",
]
