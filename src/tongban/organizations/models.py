"""Administrative divisions, departments, service halls and their windows."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    """行使层级 — exercise level; the digit is the one used inside 实施编码."""

    NATIONAL = "national", _("国家级")
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    COUNTY = "county", _("县级")
    TOWNSHIP = "township", _("乡镇级")


LEVEL_DIGIT = {
    Level.NATIONAL: "1",
    Level.PROVINCE: "2",
    Level.CITY: "3",
    Level.COUNTY: "4",
    Level.TOWNSHIP: "5",
}


class Division(models.Model):
    """行政区划: city, district/county or street/town, identified by its statistical code."""

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级区划"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """部门: a body that implements service items (实施主体)."""

    name = models.CharField(_("部门名称"), max_length=100, unique=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    division = models.ForeignKey(
        Division, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="departments"
    )
    level = models.CharField(_("行使层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级部门"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    consultation_phone = models.CharField(_("咨询电话"), max_length=40, blank=True)
    complaint_phone = models.CharField(_("监督投诉电话"), max_length=40, blank=True)
    address = models.CharField(_("办公地址"), max_length=200, blank=True)
    is_services_bureau = models.BooleanField(
        _("政务服务管理部门"), default=False,
        help_text=_("负责事项目录和大厅管理的部门（政务服务管理局）"),
    )
    is_data_bureau = models.BooleanField(
        _("数据管理部门"), default=False,
        help_text=_("负责数据元、政务数据资源目录审核和供需对接的部门（大数据管理局）"),
    )

    class Meta:
        ordering = ["division__code", "name"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name


class Hall(models.Model):
    """政务服务大厅 (or a street/town 便民服务中心) where windows receive applicants."""

    name = models.CharField(_("大厅名称"), max_length=100, unique=True)
    division = models.ForeignKey(Division, verbose_name=_("行政区划"), on_delete=models.PROTECT)
    department = models.ForeignKey(
        Department, verbose_name=_("管理部门"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="halls",
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("电话"), max_length=40, blank=True)

    class Meta:
        ordering = ["division__code", "name"]
        verbose_name = _("服务大厅")
        verbose_name_plural = _("服务大厅")

    def __str__(self) -> str:
        return self.name


class OfficePeriod(models.Model):
    """One office period of a hall on working days, e.g. 09:00–12:00.

    Seasonal variants: a period may apply only between two month-day marks (``season_from`` /
    ``season_to`` as MMDD); periods without marks apply all year.
    """

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="office_periods")
    starts = models.TimeField(_("开始"))
    ends = models.TimeField(_("结束"))
    season_from = models.CharField(_("适用起(月日)"), max_length=4, blank=True)
    season_to = models.CharField(_("适用止(月日)"), max_length=4, blank=True)

    class Meta:
        ordering = ["hall", "season_from", "starts"]
        verbose_name = _("办公时段")
        verbose_name_plural = _("办公时段")
        constraints = [
            models.CheckConstraint(condition=models.Q(starts__lt=models.F("ends")),
                                   name="office_period_starts_before_ends"),
        ]

    def __str__(self) -> str:
        return f"{self.starts:%H:%M}–{self.ends:%H:%M}"


class OfficeHoursStamp(models.Model):
    """One row: a fresh random stamp written by every change of any hall's office periods, so
    that each process may keep the office hours it read until the stamp changes (the clock's
    ``office_hours``). Random rather than a counter: a rolled-back change cannot make an old
    stamp current again."""

    stamp = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("办公时段版本")
        verbose_name_plural = _("办公时段版本")

    def __str__(self) -> str:
        return self.stamp


def office_hours_changed() -> None:
    """Record that office periods changed (signals below; ``hall_save`` after a bulk write)."""
    import secrets

    OfficeHoursStamp.objects.update_or_create(pk=1, defaults={"stamp": secrets.token_hex(16)})


def office_hours_stamp() -> str:
    """The current stamp ("" before the first change)."""
    return OfficeHoursStamp.objects.filter(pk=1).values_list("stamp", flat=True).first() or ""


class Window(models.Model):
    """窗口 of a hall. A comprehensive window (综合窗口) accepts any department's items."""

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="windows")
    number = models.CharField(_("窗口号"), max_length=20)
    name = models.CharField(_("窗口名称"), max_length=100)
    is_comprehensive = models.BooleanField(_("综合窗口"), default=False)
    departments = models.ManyToManyField(
        Department, verbose_name=_("受理部门"), blank=True, related_name="windows"
    )

    class Meta:
        ordering = ["hall", "number"]
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        constraints = [
            models.UniqueConstraint(fields=["hall", "number"], name="window_number_unique_in_hall")
        ]

    def __str__(self) -> str:
        return _("%(hall)s %(number)s号窗口") % {"hall": self.hall.name, "number": self.number}
