"""Telling a licence's holder: issued, changed, revoked, expired.

The messages (in-app, email) belong to ``tongban.cases.notifications``, a floor above the
library: like every lower floor, the library *announces* (``scheduling.announcements.announce``,
kind 电子证照) to the holder's accounts inside the causing transaction, and the notifications
app sends once it commits. A missing listener raises rather than leaving the holder untold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Role, User
from tongban.core import crypto
from tongban.scheduling.announcements import announce

if TYPE_CHECKING:
    from ..models import Licence

KIND = "licence"  # notifications.Kind.LICENCE (电子证照)

# event → (subject, text): templates filled in the platform's language when announced.
MESSAGES: dict[str, tuple[Any, Any]] = {
    "issued": (_("您获得了电子证照：%(name)s"),
               _("%(issuer)s已签发电子证照“%(name)s”，证照标识 %(id)s，可在“我的证照”中查看和下载。")),
    "changed": (_("您的电子证照已变更：%(name)s"),
                _("电子证照“%(name)s”已变更为新版本，新证照标识 %(id)s。变更说明：%(reason)s")),
    "revoked": (_("您的电子证照已注销：%(name)s"),
                _("电子证照“%(name)s”（%(id)s）已注销。原因：%(reason)s")),
    "expired": (_("您的电子证照已过期：%(name)s"),
                _("电子证照“%(name)s”（%(id)s）已超过有效期，如需继续使用请申请换发。")),
}


def holder_accounts(holder_id: str) -> list[int]:
    """The ids of the citizen or company accounts whose 公民身份号码 or USCC is ``holder_id``."""
    indexes = crypto.blind_indexes(holder_id.upper())
    by_id = User.objects.filter(id_number_index__in=indexes)
    by_uscc = User.objects.filter(uscc=holder_id.upper())
    return list((by_id | by_uscc).filter(role__in=[Role.CITIZEN, Role.ENTERPRISE], is_active=True)
                .distinct().order_by("pk").values_list("pk", flat=True))


def tell_holder(licence: Licence, *, event: str, reason: str = "") -> None:
    """Announce ``event`` to the holder's accounts (sent once the transaction commits)."""
    subject, text = MESSAGES[event]
    announce(kind=KIND, key=f"licence:{licence.pk}:{event}", subject=subject, text=text,
             values={"name": licence.type.name, "issuer": licence.issuer.name,
                     "id": licence.identifier, "reason": reason},
             user_ids=holder_accounts(licence.holder_id))
