"""The site's main navigation: which links each role sees, in one list (the context processor
``navigation`` gives every page ``nav_links``).

A link whose URL name does not resolve is left out, so a door that is switched off (or not
installed) simply has no link — the links name URLs, they import no app. Labels are
translatable; roles are ``Role`` members, ``None`` meaning everyone (logged in or not). Here in
accounts, not in core: who sees what is a question of roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .models import Role

PUBLIC_SIDE = (Role.CITIZEN, Role.ENTERPRISE)
CATALOG_STAFF = (Role.ADMIN, Role.OFFICER, Role.HEAD)


@dataclass(frozen=True)
class Link:
    url_name: str
    label: Any
    roles: tuple[str, ...] | None = None
    secondary: bool = False  # hidden in the elder-friendly mode's simpler layout
    # A flag the user's department must have (``is_data_bureau``) unless the user is an admin.
    department_flag: str = ""


LINKS: tuple[Link, ...] = (
    Link("catalog:home", _("首页")),
    Link("catalog:lists", _("四办清单")),
    Link("catalog:topics", _("主题服务")),
    Link("catalog:departments", _("部门")),
    Link("catalog:power_list", _("权力清单"), secondary=True),
    Link("catalog:search", _("搜索")),
    Link("queues:index", _("排队取号"), secondary=True),
    Link("ratings:report_index", _("好差评通报"), secondary=True),
    Link("inspections:public", _("双随机一公开"), secondary=True),
    Link("exchange:resource_list", _("数据资源目录"), secondary=True),
    Link("exchange:element_list", _("数据元"), secondary=True),
    Link("cases:my_cases", _("我的办件"), PUBLIC_SIDE),
    Link("cases:my_messages", _("我的消息"), PUBLIC_SIDE),
    Link("exchange:my_data_uses", _("我的数据使用记录"), PUBLIC_SIDE),
    Link("licences:wallet", _("我的证照"), PUBLIC_SIDE),
    Link("licences:authorized", _("授权用证"), (Role.OFFICER, Role.HEAD, Role.DATA_OFFICER),
         secondary=True),
    Link("licences:issued", _("本部门证照"), (Role.OFFICER, Role.HEAD), secondary=True),
    Link("cases:window", _("综合窗口"), (Role.CLERK,)),
    Link("queues:window", _("叫号"), (Role.CLERK,)),
    Link("cases:workbench", _("工作台"), (Role.OFFICER, Role.HEAD)),
    Link("cases:head", _("科室总览"), (Role.HEAD,)),
    Link("cases:proxy", _("代办服务"), (Role.PROXY_AGENT,)),
    Link("ratings:window", _("现场评价"), (Role.CLERK,)),
    Link("ratings:tickets", _("差评整改"), (Role.OFFICER, Role.HEAD, Role.CLERK, Role.SUPERVISOR)),
    Link("ratings:appeals", _("申诉复核"), (Role.SUPERVISOR,)),
    Link("supervision:dashboard", _("电子监察"), (Role.SUPERVISOR, Role.ADMIN, Role.HEAD)),
    Link("supervision:records", _("监察记录"), (Role.OFFICER, Role.PROXY_AGENT)),
    Link("audit:records", _("审计日志"), (Role.SUPERVISOR, Role.ADMIN)),
    Link("inspections:staff", _("双随机抽查"), (Role.OFFICER, Role.HEAD, Role.SUPERVISOR, Role.ADMIN)),
    Link("catalog:quality", _("事项梳理"), (Role.ADMIN, Role.OFFICER, Role.HEAD, Role.SUPERVISOR)),
    Link("catalog:bureau_items", _("事项维护"), CATALOG_STAFF),
    Link("catalog:bureau_review_queue", _("待审核"), (Role.ADMIN,)),
    Link("catalog:import", _("目录导入"), (Role.ADMIN,)),
    Link("accounts:staff", _("工作人员"), (Role.ADMIN,)),
    # The data layer: each department's data officer, and the data bureau (its data officers;
    # the review pages refuse a department's own data officer).
    Link("exchange:resources_mine", _("本部门资源"), (Role.DATA_OFFICER,)),
    Link("exchange:resources_review", _("资源审核"), (Role.DATA_OFFICER, Role.ADMIN),
         department_flag="is_data_bureau"),
    Link("exchange:resources_conflicts", _("数源确认"), (Role.DATA_OFFICER, Role.ADMIN),
         department_flag="is_data_bureau"),
    Link("exchange:sharing", _("数据共享"), (Role.DATA_OFFICER, Role.ADMIN)),
    Link("exchange:element_manage", _("数据元管理"), (Role.DATA_OFFICER, Role.ADMIN)),
    Link("exchange:census", _("数据普查"), (Role.DATA_OFFICER, Role.ADMIN),
         department_flag="is_data_bureau"),
    Link("licences:types", _("证照类型"), (Role.DATA_OFFICER, Role.ADMIN),
         department_flag="is_data_bureau"),
    # Automatic decisions (秒批): the bureau keeps the rule sets; supervisors and heads read
    # them and the figures.
    Link("decisions:rule_sets", _("秒批规则"), (Role.ADMIN, Role.SUPERVISOR, Role.HEAD)),
    Link("decisions:figures", _("秒批统计"), (Role.ADMIN, Role.SUPERVISOR, Role.HEAD),
         secondary=True),
)


def links_for(request: Any) -> list[dict[str, Any]]:
    """The links ``request.user`` sees, each with its URL and whether it is the current page."""
    user = getattr(request, "user", None)
    role = getattr(user, "role", None) if getattr(user, "is_authenticated", False) else None
    out = []
    for link in LINKS:
        if link.roles is not None and role not in link.roles:
            continue
        if link.department_flag and role != Role.ADMIN and not getattr(
                getattr(user, "department", None), link.department_flag, False):
            continue
        try:
            url = reverse(link.url_name)
        except NoReverseMatch:
            continue
        out.append({"url": url, "label": link.label, "current": request.path == url,
                    "secondary": link.secondary})
    return out


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the main navigation for the visitor's role."""
    return {"nav_links": links_for(request)}
