"""Public catalog pages (no login): home, the four lists, the power list, departments, search,
and each item's service guide (办事指南) with its published history."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from tongban.core.access import public
from tongban.core.errors import Problem

from .. import figures, guide_cache, life_events, selectors
from ..models import (
    Commitment,
    HandlingForm,
    Item,
    ItemType,
    ItemVersion,
    LimitUnit,
    OnlineDepth,
    ServiceObject,
    VersionStatus,
)

PAGE_SIZE = 20


def _label(enum: Any, value: Any) -> str:
    try:
        return str(enum(value).label)
    except ValueError:
        return str(value)


def _filter_context(f: selectors.CatalogFilter, problems: list[Problem]) -> dict[str, Any]:
    """What every filter form needs: current values, choices, and faulty parameters."""
    return {
        "filter": f,
        "problems": problems,
        "choices": selectors.filter_choices(f),
        "commitments": Commitment.choices,
        "item_types": ItemType.choices,
        "service_objects": ServiceObject.choices,
        "online_depths": OnlineDepth.choices,
    }


@public
def home(request: HttpRequest) -> HttpResponse:
    counts = selectors.list_counts()
    return render(request, "catalog/home.html", {
        "list_counts": counts,
        "total": sum(c.count for c in counts),
        "topics": selectors.topic_counts(),
        "departments": selectors.department_counts(),
        "person_events": life_events.events_for(ServiceObject.NATURAL_PERSON.value),
        "company_events": life_events.events_for(ServiceObject.LEGAL_PERSON.value),
    })


# Who a topic page is for: the ``for`` parameter → the service object of its items.
AUDIENCES = {"person": ServiceObject.NATURAL_PERSON.value, "company": ServiceObject.LEGAL_PERSON.value}


@public
def topics(request: HttpRequest) -> HttpResponse:
    """主题服务: 主题分类 and life events, for persons (个人办事) or companies (法人办事)."""
    audience = request.GET.get("for", "person")
    if audience not in AUDIENCES:
        audience = "person"
    service_object = AUDIENCES[audience]
    return render(request, "catalog/topics.html", {
        "audience": audience,
        "service_object": service_object,
        "topics": selectors.topic_counts(selectors.CatalogFilter(service_object=service_object)),
        "events": selectors.life_event_counts(life_events.events_for(service_object)),
        "list_counts": selectors.list_counts(selectors.CatalogFilter(service_object=service_object)),
    })


@public
def life_event(request: HttpRequest, slug: str) -> HttpResponse:
    """The listed items of one life event (出生、结婚、开办企业…)."""
    event = life_events.BY_SLUG.get(slug)
    if event is None:
        raise Http404(_("没有这个办事场景"))
    versions = list(selectors.life_event_versions(event))
    audience = next(k for k, v in AUDIENCES.items() if v == event.audience)
    return render(request, "catalog/life_event.html", {
        "event": event, "versions": versions, "audience": audience,
        "others": life_events.events_for(event.audience),
    })


@public
def lists_overview(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/lists_overview.html", {
        "list_counts": selectors.list_counts(),
        "divisions": selectors.division_list_counts(),
        "commitments": Commitment.choices,
    })


def _browse(request: HttpRequest, *, commitment: str | None = None, search: bool = False,
            template: str = "catalog/item_list.html") -> HttpResponse:
    """A filtered, paginated list of listed items, ranked by relevance when there is a query."""
    allowed = tuple(n for n in selectors.FILTER_NAMES if not (commitment and n == "commitment"))
    f, problems = selectors.parse_filters(request.GET, allowed=allowed)
    if commitment:
        f = replace(f, commitment=commitment)
    q = request.GET.get("q", "").strip()
    context: dict[str, Any] = {"q": q, "commitment": commitment, "search": search,
                               "commitment_label": _label(Commitment, commitment) if commitment else ""}
    if q:
        ranked = selectors.search_ranked(q, f)
        id_page = Paginator(ranked.item_ids, PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(page_obj=id_page, rows=selectors.search_rows(list(id_page.object_list), ranked.query),
                       total=len(ranked.item_ids), query=ranked.query, matched_all=ranked.matched_all)
        if ranked.query.is_empty:
            context["message"] = _("没有可用于查找的词语。请输入事项名称或关键词，"
                                   "例如“社保卡”“户口迁移”“营业执照”。")
        elif not ranked.item_ids:
            context["message"] = _("没有找到与“%(q)s”相关的事项。请换一个说法，"
                                   "或减少关键词、取消筛选条件后再试。") % {"q": q}
    elif search:
        context.update(page_obj=None, rows=[], total=0, message=_(
            "请输入要查找的事项名称或关键词，例如“社保卡”“户口迁移”“营业执照”。"))
    else:
        page = Paginator(selectors.published_versions(f), PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(page_obj=page, versions=page.object_list, total=page.paginator.count)
    context["list_counts"] = selectors.list_counts(f)
    # The list tabs keep the other filters (and the query) when switching lists.
    keep = {k: v for k, v in f.as_params().items() if k != "commitment"}
    if q:
        keep["q"] = q
    context["filter_query"] = urlencode(keep)
    context.update(_filter_context(f, problems))
    return render(request, template, context)


@public
def commitment_list(request: HttpRequest, commitment: str) -> HttpResponse:
    if commitment not in Commitment.values:
        raise Http404(_("没有这个清单"))
    return _browse(request, commitment=commitment)


@public
def item_list(request: HttpRequest) -> HttpResponse:
    return _browse(request)


@public
def search(request: HttpRequest) -> HttpResponse:
    return _browse(request, search=True)


@public
def power_list(request: HttpRequest) -> HttpResponse:
    f, problems = selectors.parse_filters(request.GET, allowed=("division", "department", "item_type"))
    page = Paginator(selectors.published_versions(f, received_counts=False), PAGE_SIZE).get_page(
        request.GET.get("page"))
    # The figures of the power list's items over the last twelve months (电子监察's counter).
    until = timezone.localdate()
    since = until - timedelta(days=365)
    versions = list(page.object_list)
    performance = figures.item_performance(since, until, item_ids=[v.item_id for v in versions])
    context = {"power": selectors.power_list(f), "page_obj": page, "versions": versions,
               "rows": [(v, performance.get(v.item_id)) for v in versions],
               "since": since, "until": until, "total": page.paginator.count}
    context.update(_filter_context(f, problems))
    return render(request, "catalog/power_list.html", context)


@public
def department_index(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/department_index.html", {
        "departments": selectors.department_counts(), "commitments": Commitment.choices,
    })


@public
def department_detail(request: HttpRequest, uscc: str) -> HttpResponse:
    department = selectors.department_by_uscc(uscc)
    if department is None:
        raise Http404(_("没有这个部门"))
    lists = selectors.department_lists(department)
    sections = [{"commitment": c.value, "label": c.label, "versions": lists[c.value]} for c in Commitment]
    return render(request, "catalog/department_detail.html", {
        "department": department, "sections": sections,
        "total": sum(len(versions) for versions in lists.values()),
    })


# --- one item ---------------------------------------------------------------------------------

def _item_or_404(code: str) -> Item:
    item = selectors.item_by_code(code)
    if item is None:
        raise Http404(_("没有实施编码为“%(code)s”的事项") % {"code": code})
    return item


def _limit_text(amount: int, unit: str, *, committed: bool) -> str:
    text = _("%(n)s个%(unit)s") % {"n": amount, "unit": _label(LimitUnit, unit)}
    if amount == 0:
        text += _("（当场办结）") if committed else _("（当场办结或无单独法定期限）")
    return text


def guide_context(version: ItemVersion) -> dict[str, Any]:
    """Display values of a guide that need more than a field's own label."""
    return {
        "version": version,
        "item": version.item,
        "department": version.item.department,
        "legal_limit_text": _limit_text(version.legal_limit, version.legal_limit_unit, committed=False),
        "committed_limit_text": _limit_text(version.committed_limit, version.committed_limit_unit,
                                            committed=True),
        "handling_forms": [_label(HandlingForm, v) for v in version.handling_forms],
        "service_objects": [_label(ServiceObject, v) for v in version.service_objects],
        "materials": list(version.materials.all()),
        "fees": list(version.fees.all()),
        "faqs": list(version.faqs.all()),
        "applies_online": selectors.applies_online(version),
        "places": selectors.places_for(version),
    }


def _guide_body(version: ItemVersion) -> tuple[str, str]:
    """The item's part of its guide page, rendered without the request (kept per version)."""
    context = guide_context(version)
    context["is_current"] = True
    return version.name, render_to_string("catalog/_guide_body.html", context)


def _guide_page(request: HttpRequest, version: ItemVersion, csrf_token: str) -> str:
    """The whole guide page for this request, with ``csrf_token`` for the request's token."""
    name, body = _guide_body(version)
    return render_to_string("catalog/item_guide.html", {
        "guide_name": name, "guide_body": mark_safe(body), "csrf_token": csrf_token}, request)


@public
def item_guide(request: HttpRequest, code: str) -> HttpResponse:
    # A visitor with nothing of their own on the page gets the whole page kept per published
    # version (guide_cache), with their own CSRF token.
    if guide_cache.plain_visitor(request):
        page = guide_cache.kept_page(request, code,
                                     lambda version, token: _guide_page(request, version, token))
        if page is not None:
            return page
    # Otherwise the item's part of the page is kept per published version; the page around
    # it — navigation, the user's name — is rendered for this request.
    kept = guide_cache.kept_for_code("guide", code, _guide_body)
    if kept is not None:
        # kept[1] is the output of the template engine (escaped when it was rendered).
        return render(request, "catalog/item_guide.html",
                      {"guide_name": kept[0], "guide_body": mark_safe(kept[1])})
    item = _item_or_404(code)
    version = selectors.published_version_of(item)
    if version is None:
        if selectors.is_cancelled(item):
            return render(request, "catalog/item_cancelled.html", {
                "item": item, "version": item.current}, status=410)
        raise Http404(_("该事项尚未发布"))
    context = guide_context(version)
    context["is_current"] = True
    return render(request, "catalog/item_guide.html", context)


@public
def item_history(request: HttpRequest, code: str) -> HttpResponse:
    item = _item_or_404(code)
    versions = selectors.public_history(item)
    if not versions:
        raise Http404(_("该事项尚未发布"))
    return render(request, "catalog/item_history.html", {
        "item": item, "versions": versions, "latest": versions[0],
        "cancelled": selectors.is_cancelled(item),
    })


@public
def item_version(request: HttpRequest, code: str, number: int) -> HttpResponse:
    item = _item_or_404(code)
    version = selectors.public_version(item, number)
    if version is None:
        raise Http404(_("该事项没有已公开的第%(n)s版") % {"n": number})
    context = guide_context(version)
    context["is_current"] = version.status == VersionStatus.PUBLISHED
    context["cancelled"] = selectors.is_cancelled(item)
    return render(request, "catalog/item_guide.html", context)
