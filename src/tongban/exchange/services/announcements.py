"""Who in the departments is told of a step of the data layer, and what they read.

Each use case of :mod:`.sharing` and :mod:`.resources` calls one of these inside its transaction;
:func:`tongban.scheduling.announcements.announce` hands the message to the notifications, which
send it (in-app, email) to the named departments' data officers once the step commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.scheduling.announcements import announce

if TYPE_CHECKING:
    from ..models import DataElement, DataRequest, Grant, Resource, ResourceVersion

KIND = "data"  # notifications.Kind.DATA (数据共享)


def _local(instant: Any) -> str:
    return timezone.localtime(instant).strftime("%Y-%m-%d %H:%M") if instant else ""


def _label(resource: Resource) -> str:
    """"code name" of a resource, by its published version (else its newest)."""
    version = resource.current or resource.versions.order_by("-version").first()
    return f"{resource.code} {version.name}" if version is not None else resource.code


def _what(request: DataRequest) -> str:
    if request.resource is not None:
        return _label(request.resource)
    return str(_("资源目录中尚无的数据"))


def demand_moved(request: DataRequest, action: str, *, from_status: str) -> None:
    """A demand was filed or moved by ``action`` (``sharing.TRANSITIONS``'s names, or "file")."""
    from ..models import RequestStatus as S

    provider = request.resource.provider_id if request.resource is not None else None
    values = {"n": request.number, "dept": request.requester.name, "what": _what(request),
              "due": _local(request.stage_due_at), "purpose": request.purpose,
              "reason": request.decision_reason or "—", "basis": request.refusal_basis or "—",
              "provider": request.resource.provider.name if request.resource else ""}
    key = f"data-request-{request.number}-{action}"
    if action == "file":
        announce(kind=KIND, key=key, values=values, data_bureau=True,
                 subject=_("新的数据共享需求：%(n)s"),
                 text=_("%(dept)s提出数据共享需求%(n)s（%(what)s），用途：%(purpose)s。"
                        "请于%(due)s前审核。"))
    elif action == "forward":
        announce(kind=KIND, key=key, values=values, data_officers_of=[provider],
                 subject=_("数据共享需求待答复：%(n)s"),
                 text=_("%(dept)s申请共享贵部门的资源%(what)s，用途：%(purpose)s。"
                        "请于%(due)s前答复（同意须选择脱敏项，不予共享须写明理由和依据）。"))
        announce(kind=KIND, key=key + "-requester", values=values,
                 data_officers_of=[request.requester_id],
                 subject=_("数据共享需求已转提供方：%(n)s"),
                 text=_("您的数据共享需求%(n)s（%(what)s）已通过数据管理部门审核，转%(provider)s答复，"
                        "答复期限%(due)s。"))
    elif action in ("grant", "approve"):
        announce(kind=KIND, key=key, values=values, data_officers_of=[request.requester_id],
                 subject=_("数据共享需求已授权：%(n)s"),
                 text=_("您的数据共享需求%(n)s（%(what)s）已获授权。请在“本部门授权”中领取调用密钥；"
                        "密钥只显示一次。"))
    elif action in ("refuse", "refuse_check"):
        announce(kind=KIND, key=key, values=values, data_officers_of=[request.requester_id],
                 subject=_("数据共享需求不予共享：%(n)s"),
                 text=_("您的数据共享需求%(n)s（%(what)s）不予共享。理由：%(reason)s；"
                        "依据：%(basis)s。"))
    elif action == "gap":
        gap = getattr(request, "gap", None)
        values["responsible"] = gap.responsible.name if gap is not None else ""
        announce(kind=KIND, key=key, values=values,
                 data_officers_of=[request.requester_id,
                                   gap.responsible_id if gap is not None else None],
                 subject=_("数据需求列入需求清单：%(n)s"),
                 text=_("数据需求%(n)s（%(dept)s提出）暂无资源提供，已列入需求清单，"
                        "由%(responsible)s负责提供。"))
    elif action == "withdraw":
        at_provider = from_status == S.AT_PROVIDER
        announce(kind=KIND, key=key, values=values,
                 data_officers_of=[provider] if at_provider else [],
                 data_bureau=not at_provider,
                 subject=_("数据共享需求已撤回：%(n)s"),
                 text=_("%(dept)s撤回了数据共享需求%(n)s（%(what)s），无需再办理。"))


def source_confirmed(element: DataElement, claimants: set[int]) -> None:
    """The data bureau confirmed a 数源: every claiming department is told the outcome."""
    assert element.source_department is not None and element.source_confirmed_at is not None
    announce(kind=KIND, key=f"data-source-{element.pk}-{int(element.source_confirmed_at.timestamp())}",
             data_officers_of=[*claimants, element.source_department_id],
             values={"id": element.identifier, "name": element.name,
                     "dept": element.source_department.name, "reason": element.source_reason},
             subject=_("数源确认：%(id)s %(name)s"),
             text=_("数据管理部门确认%(dept)s为数据元“%(id)s %(name)s”的数源。理由：%(reason)s。"
                    "其他部门的资源不再作为该数据元的数源发布。"))


def grant_revoked(grant: Grant) -> None:
    announce(kind=KIND, key=f"data-grant-{grant.pk}-revoked",
             data_officers_of=[grant.consumer_id, grant.resource.provider_id],
             values={"res": _label(grant.resource),
                     "dept": grant.consumer.name, "reason": grant.revoke_reason},
             subject=_("数据共享授权已撤销：%(res)s"),
             text=_("%(dept)s使用资源%(res)s的授权已撤销，其调用密钥即时失效。原因：%(reason)s。"))


def resource_reviewed(version: ResourceVersion, *, approved: bool) -> None:
    values = {"code": version.resource.code, "name": version.name,
              "v": version.version, "note": version.review_note or "—"}
    key = f"data-resource-{version.pk}-{'published' if approved else 'rejected'}"
    if approved:
        announce(kind=KIND, key=key, values=values,
                 data_officers_of=[version.resource.provider_id],
                 subject=_("资源目录已发布：%(code)s"),
                 text=_("资源%(code)s %(name)s第%(v)s版已审核通过并发布。"))
    else:
        announce(kind=KIND, key=key, values=values,
                 data_officers_of=[version.resource.provider_id],
                 subject=_("资源目录被退回：%(code)s"),
                 text=_("资源%(code)s %(name)s第%(v)s版被退回修改。审核意见：%(note)s。"))
