"""Telling a licence's holder: issued, changed, revoked, expired.

The messages (in-app, email, SMS) belong to ``tongban.cases.notifications``, a floor above the
library: the cases app registers its ``notify_users`` here when it starts
(``CasesConfig.ready``), as supervision registers its recorder of findings. A missing
registration raises rather than leaving the holder untold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.translation import gettext

from tongban.accounts.models import Role, User
from tongban.core import crypto

if TYPE_CHECKING:
    from ..models import Licence

_notifier: Callable[..., Any] | None = None


def register_notifier(notifier: Callable[..., Any]) -> None:
    """Called once by the cases app with ``notifications.services.notify_users``."""
    global _notifier
    _notifier = notifier


def holder_accounts(holder_id: str) -> list[User]:
    """The citizen or company accounts whose 公民身份号码 or USCC is ``holder_id``."""
    indexes = crypto.blind_indexes(holder_id.upper())
    by_id = User.objects.filter(id_number_index__in=indexes)
    by_uscc = User.objects.filter(uscc=holder_id.upper())
    return list((by_id | by_uscc).filter(role__in=[Role.CITIZEN, Role.ENTERPRISE], is_active=True)
                .distinct())


def _message(licence: Licence, event: str, reason: str) -> tuple[str, str]:
    name, identifier = licence.type.name, licence.identifier
    if event == "issued":
        return (gettext("您获得了电子证照：%(name)s") % {"name": name},
                gettext("%(issuer)s已签发电子证照“%(name)s”，证照标识 %(id)s，可在“我的证照”中查看和下载。")
                % {"issuer": licence.issuer.name, "name": name, "id": identifier})
    if event == "changed":
        return (gettext("您的电子证照已变更：%(name)s") % {"name": name},
                gettext("电子证照“%(name)s”已变更为新版本，新证照标识 %(id)s。变更说明：%(reason)s")
                % {"name": name, "id": identifier, "reason": reason})
    if event == "revoked":
        return (gettext("您的电子证照已注销：%(name)s") % {"name": name},
                gettext("电子证照“%(name)s”（%(id)s）已注销。原因：%(reason)s")
                % {"name": name, "id": identifier, "reason": reason})
    return (gettext("您的电子证照已过期：%(name)s") % {"name": name},
            gettext("电子证照“%(name)s”（%(id)s）已超过有效期，如需继续使用请申请换发。")
            % {"name": name, "id": identifier})


def tell_holder(licence: Licence, *, event: str, reason: str = "") -> None:
    """Tell the holder's accounts about ``event`` once the transaction commits."""
    if _notifier is None:
        raise ImproperlyConfigured("tongban.cases is not installed: licence holders go untold")
    notifier = _notifier
    subject, text = _message(licence, event, reason)
    key = f"licence:{licence.pk}:{event}"
    holder_id = licence.holder_id

    def send() -> None:
        users = holder_accounts(holder_id)
        if users:
            notifier(users, key=key, subject=subject, text=text)

    transaction.on_commit(send)
