"""The filter form of the supervisors' audit log page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tongban.core.forms import CalendarDateTimeField

from .selectors import RecordFilter

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class RecordFilterForm(forms.Form):
    """Times are read in Asia/Shanghai (the site's time zone)."""

    since = CalendarDateTimeField(label=_("起始时间"), required=False, input_formats=DATETIME_FORMATS,
                                widget=DateTimeLocalInput())
    until = CalendarDateTimeField(label=_("截止时间"), required=False, input_formats=DATETIME_FORMATS,
                                widget=DateTimeLocalInput())
    actor = forms.CharField(label=_("操作人（用户名或姓名，system 为系统）"), required=False,
                            max_length=150)
    action = forms.CharField(label=_("操作（前缀，如 case.）"), required=False, max_length=64)
    object_type = forms.CharField(label=_("对象类型"), required=False, max_length=64)
    object_id = forms.CharField(label=_("对象编号"), required=False, max_length=64)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", _("截止时间须晚于起始时间"))
        return data

    def record_filter(self) -> RecordFilter:
        data = self.cleaned_data
        return RecordFilter(since=data.get("since"), until=data.get("until"),
                            actor=(data.get("actor") or "").strip(),
                            action=(data.get("action") or "").strip(),
                            object_type=(data.get("object_type") or "").strip(),
                            object_id=(data.get("object_id") or "").strip())
