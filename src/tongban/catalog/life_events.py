"""Life events (人生事/企业事): the moments people and companies come to the platform for, as
data. Each event names the 主题分类 whose items belong to it and words that, found in an item's
name, also bring it in; ``selectors.life_event_versions`` does the matching. To add or change an
event, edit this table (labels are translatable; slugs are the URL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from .models import ServiceObject

PERSON = ServiceObject.NATURAL_PERSON.value
COMPANY = ServiceObject.LEGAL_PERSON.value


@dataclass(frozen=True)
class LifeEvent:
    slug: str
    name: Any  # translatable label
    audience: str  # a ServiceObject value: whose event it is
    topics: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


LIFE_EVENTS: tuple[LifeEvent, ...] = (
    LifeEvent("birth", _("出生"), PERSON, ("生育收养",), ("出生", "生育", "新生儿", "收养")),
    LifeEvent("school", _("上学"), PERSON, ("文体教育", "教育科研"), ("入学", "学籍", "学生", "教育")),
    LifeEvent("work", _("就业"), PERSON, ("就业创业", "职业资格", "人力资源"), ("就业", "失业", "职业")),
    LifeEvent("marriage", _("结婚"), PERSON, ("婚姻登记",), ("结婚", "婚姻")),
    LifeEvent("housing", _("住房"), PERSON, ("住房保障",), ("住房", "公积金", "不动产")),
    LifeEvent("retirement", _("退休"), PERSON, ("离职退休",), ("退休", "养老")),
    LifeEvent("bereavement", _("身后事"), PERSON, ("死亡殡葬",), ("死亡", "殡葬", "丧葬")),
    LifeEvent("start-business", _("开办企业"), COMPANY, ("准营准办",), ("设立", "开办", "开业")),
    LifeEvent("change-business", _("企业变更"), COMPANY, (), ("变更",)),
    LifeEvent("close-business", _("注销"), COMPANY, ("法人注销",), ("注销",)),
)

BY_SLUG = {event.slug: event for event in LIFE_EVENTS}


def events_for(audience: str) -> list[LifeEvent]:
    return [event for event in LIFE_EVENTS if event.audience == audience]
