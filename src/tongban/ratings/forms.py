"""Page forms of ratings and tickets. They parse input only; the services check every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tongban.core.forms import CalendarDateField

from .models import Level, RatingTag, Response, indicators_for

LEVEL_CHOICES = [(lv.value, f"{'★' * lv.value} {lv.label}") for lv in Level]


class RatingForm(forms.Form):
    """Overall level, the channel's national indicators, bad-review tags and free text."""

    level = forms.TypedChoiceField(label=_("总体评价"), choices=LEVEL_CHOICES, coerce=int,
                                   widget=forms.RadioSelect,
                                   error_messages={"required": _("请选择总体评价")})
    tags = forms.MultipleChoiceField(
        label=_("差评原因（选择“不满意”或“非常不满意”时填写）"), required=False,
        widget=forms.CheckboxSelectMultiple)
    text = forms.CharField(label=_("意见或建议（选填）"), required=False, max_length=500,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.indicator_names = list(indicators_for(channel))
        for key, label in indicators_for(channel).items():
            self.fields[f"ind_{key}"] = forms.TypedChoiceField(
                label=label, choices=LEVEL_CHOICES, coerce=int, widget=forms.RadioSelect,
                error_messages={"required": _("请为“%(name)s”选择评价") % {"name": label}})
        tags = self.fields["tags"]
        assert isinstance(tags, forms.MultipleChoiceField)
        tags.choices = [(t.code, t.name) for t in RatingTag.objects.filter(active=True)]
        self.order_fields(["level", *[f"ind_{k}" for k in self.indicator_names], "tags", "text"])

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"level": data["level"], "tags": data["tags"], "text": data["text"],
                "indicators": {k: data[f"ind_{k}"] for k in self.indicator_names}}

    # Service problems are named ``indicators.<key>``; on the page the field is ``ind_<key>``.
    def field_map(self) -> dict[str, str]:
        return {f"indicators.{k}": f"ind_{k}" for k in self.indicator_names}


class RespondForm(forms.Form):
    response = forms.ChoiceField(label=_("处理方式"), choices=Response.choices,
                                 widget=forms.RadioSelect)
    text = forms.CharField(label=_("整改情况或解释说明"), widget=forms.Textarea(attrs={"rows": 3}))
    ledger_deadline = CalendarDateField(label=_("台账整改期限（建立台账时填写）"), required=False,
                                      widget=forms.DateInput(attrs={"type": "date"}))


class CallbackForm(forms.Form):
    reached = forms.TypedChoiceField(label=_("是否联系上评价人"), coerce=lambda v: v == "yes",
                                     choices=[("yes", _("已联系上")), ("no", _("未能联系上"))],
                                     widget=forms.RadioSelect)
    satisfied = forms.TypedChoiceField(
        label=_("评价人对整改是否满意（评价人没有账户时，按回访中的答复填写）"), required=False,
        coerce=lambda v: {"yes": True, "no": False}.get(v), empty_value=None,
        choices=[("", _("由评价人在线评价")), ("yes", _("满意")), ("no", _("不满意"))])
    note = forms.CharField(label=_("回访记录"), widget=forms.Textarea(attrs={"rows": 3}))


class AppealForm(forms.Form):
    reason = forms.CharField(label=_("申诉理由（误评、恶意评价的依据）"),
                             widget=forms.Textarea(attrs={"rows": 3}))


class AppealDecisionForm(forms.Form):
    accept = forms.TypedChoiceField(label=_("复核结果"), coerce=lambda v: v == "accept",
                                    choices=[("accept", _("申诉成立（该评价不计入统计）")),
                                             ("reject", _("申诉不成立（工单退回部门整改）"))],
                                    widget=forms.RadioSelect)
    note = forms.CharField(label=_("复核意见"), widget=forms.Textarea(attrs={"rows": 3}))


class RateFixForm(forms.Form):
    satisfied = forms.TypedChoiceField(label=_("您对整改结果是否满意"),
                                       coerce=lambda v: v == "yes",
                                       choices=[("yes", _("满意")), ("no", _("不满意"))],
                                       widget=forms.RadioSelect)
