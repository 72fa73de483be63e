"""Public read API of the catalog (no authentication): items, guides, history, list counts and
the power list. It reads through the same selectors as the public pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import HttpError
from ninja.renderers import JSONRenderer

from tongban.core.errors import Problem, RuleViolation
from tongban.core.schemas import MAX_OFFSET, ErrorOut, ProblemOut, ProblemsOut

from .. import guide_cache, selectors
from ..models import Item
from ..schemas import (
    DepartmentPowerOut,
    ItemDetailOut,
    ItemOut,
    ItemPage,
    ListCountOut,
    ListsOut,
    PowerListOut,
    TypeCountOut,
    VersionOut,
)

router = Router(tags=["catalog"])

MAX_LIMIT = 100
_renderer = JSONRenderer()


__all__ = ["ErrorOut", "ProblemOut", "ProblemsOut", "router"]


def _filters(params: dict[str, Any], allowed: tuple[str, ...] = selectors.FILTER_NAMES
             ) -> selectors.CatalogFilter:
    f, problems = selectors.parse_filters(params, allowed=allowed)
    if problems:
        raise RuleViolation(problems)
    return f


def _item(code: str) -> Item:
    item = selectors.item_by_code(code)
    if item is None:
        raise HttpError(404, _("没有实施编码为“%(code)s”的事项") % {"code": code})
    return item


@router.get("/items", response={200: ItemPage, 422: ProblemsOut}, auth=None,
            summary="Listed items (filter, search, paginate)")
def list_items(request: HttpRequest, commitment: str | None = None, division: str | None = None,
               department: str | None = None, item_type: str | None = None,
               service_object: str | None = None, topic: str | None = None,
               online_depth: str | None = None, q: str | None = None,
               limit: int = 20, offset: int = 0) -> ItemPage:
    """Items whose current version is published.

    Filters: ``commitment`` (on_the_spot, same_day, time_limited, proxy), ``division`` (code;
    sub-divisions included), ``department`` (统一社会信用代码; a 代办服务 item also belongs to
    its receiving unit), ``item_type`` (01…20), ``service_object`` (natural_person,
    legal_person), ``topic`` (主题分类), ``online_depth`` (1–4). With ``q`` the items are ranked
    by relevance and ``name_highlighted`` marks the matched words. ``limit`` 1–100.
    """
    problems = []
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(Problem(field="limit", message=_("limit 须在1到%(max)s之间") % {"max": MAX_LIMIT}))
    if offset < 0:
        problems.append(Problem(field="offset", message=_("offset 不能为负数")))
    elif offset > MAX_OFFSET:
        problems.append(Problem(field="offset", message=_("offset 不能大于%(max)s") % {"max": MAX_OFFSET}))
    f, filter_problems = selectors.parse_filters({
        "commitment": commitment, "division": division, "department": department,
        "item_type": item_type, "service_object": service_object, "topic": topic,
        "online_depth": online_depth})
    problems.extend(filter_problems)
    if problems:
        raise RuleViolation(problems)
    text = (q or "").strip()
    if text:
        ranked = selectors.search_ranked(text, f)
        rows = selectors.search_rows(ranked.item_ids[offset:offset + limit], ranked.query)
        message = None
        if ranked.query.is_empty:
            message = _("没有可用于查找的词语，请输入事项名称或关键词")
        elif not ranked.item_ids:
            message = _("没有找到与“%(q)s”相关的事项") % {"q": text}
        return ItemPage(
            total=len(ranked.item_ids), limit=limit, offset=offset, query=text,
            expanded_with=ranked.query.expansions(), matched_all_words=ranked.matched_all,
            message=message,
            items=[ItemOut.from_version(r.version, name_highlighted=str(r.highlighted_name),
                                        snippet=str(r.snippet)) for r in rows],
        )
    qs = selectors.published_versions(f)
    return ItemPage(total=qs.count(), limit=limit, offset=offset,
                    items=[ItemOut.from_version(v) for v in qs[offset:offset + limit]])


@router.get("/items/{implementation_code}", response={200: ItemDetailOut, 404: ErrorOut, 410: ErrorOut},
            auth=None, summary="Service guide of one item")
def get_item(request: HttpRequest, implementation_code: str) -> Any:
    """The current published guide with materials, fees and FAQ; 410 if the item was cancelled."""
    # A published version never changes: its answer is kept, rendered, per version (guide_cache).
    content = guide_cache.kept_for_code("api-item", implementation_code, lambda version: (
        # Rendered as Ninja renders a returned schema, so the bytes are the same.
        _renderer.render(request, ItemDetailOut.from_version(version).model_dump(),
                         response_status=200).encode()))
    if content is not None:
        return HttpResponse(content, content_type=f"{_renderer.media_type}; charset={_renderer.charset}")
    item = _item(implementation_code)
    version = selectors.published_version_of(item)
    if version is None:
        if selectors.is_cancelled(item):
            raise HttpError(410, _("实施编码为“%(code)s”的事项已取消") % {"code": implementation_code})
        raise HttpError(404, _("实施编码为“%(code)s”的事项尚未发布") % {"code": implementation_code})
    return ItemDetailOut.from_version(version)


@router.get("/items/{implementation_code}/versions", response={200: list[VersionOut], 404: ErrorOut},
            auth=None, summary="Published history of one item")
def list_item_versions(request: HttpRequest, implementation_code: str) -> Any:
    """Versions the public has seen (current, superseded, cancelled), newest first."""
    versions = selectors.public_history(_item(implementation_code))
    if not versions:
        raise HttpError(404, _("实施编码为“%(code)s”的事项尚未发布") % {"code": implementation_code})
    return [VersionOut.from_version(v) for v in versions]


@router.get("/items/{implementation_code}/versions/{int:number}",
            response={200: ItemDetailOut, 404: ErrorOut}, auth=None,
            summary="One published version of an item's guide")
def get_item_version(request: HttpRequest, implementation_code: str, number: int) -> Any:
    version = selectors.public_version(_item(implementation_code), number)
    if version is None:
        raise HttpError(404, _("该事项没有已公开的第%(n)s版") % {"n": number})
    return ItemDetailOut.from_version(version)


@router.get("/lists", response={200: ListsOut, 422: ProblemsOut}, auth=None,
            summary="Item counts of the four lists")
def get_lists(request: HttpRequest, division: str | None = None,
              department: str | None = None) -> ListsOut:
    f = _filters({"division": division, "department": department}, ("division", "department"))
    counts = selectors.list_counts(f)
    return ListsOut(division=f.division, department=f.department, total=sum(c.count for c in counts),
                    lists=[ListCountOut(commitment=c.commitment, label=c.label, count=c.count)
                           for c in counts])


@router.get("/power-list", response={200: PowerListOut, 422: ProblemsOut}, auth=None,
            summary="Power list: item counts by type and implementing department")
def get_power_list(request: HttpRequest, division: str | None = None,
                   department: str | None = None) -> PowerListOut:
    f = _filters({"division": division, "department": department}, ("division", "department"))
    power = selectors.power_list(f)
    return PowerListOut(
        total=power.total,
        by_type=[TypeCountOut(item_type=t.item_type, label=t.label, count=t.count) for t in power.by_type],
        by_department=[DepartmentPowerOut(department=row.department.name, uscc=row.department.uscc,
                                          division_code=row.department.division.code, total=row.total,
                                          by_type=row.counts)
                       for row in power.by_department],
    )
