"""The service catalog: items (事项), their versions, materials, fees and FAQ.

An :class:`Item` is identified by its 实施编码 and never changes identity. Everything a guide
shows lives on an :class:`ItemVersion`; a published version is frozen, an edit makes a new
version, and ``Item.current`` points at the version the public sees. Cases later pin the
version they were made under.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.choices import ChoiceIs
from tongban.organizations.models import Department, Level


class ItemType(models.TextChoices):
    """事项类型; the value is the two-digit code used in characters 3–4 of 基本编码."""

    LICENSING = "01", _("行政许可")
    PENALTY = "02", _("行政处罚")
    COERCION = "03", _("行政强制")
    LEVY = "04", _("行政征收")
    BENEFIT = "05", _("行政给付")
    INSPECTION = "06", _("行政检查")
    CONFIRMATION = "07", _("行政确认")
    AWARD = "08", _("行政奖励")
    ADJUDICATION = "09", _("行政裁决")
    OTHER_POWER = "10", _("其他行政权力")
    PUBLIC_SERVICE = "20", _("公共服务")


# Types people apply for; all types together form the power list (权力清单).
APPLICATION_TYPES = {"01", "05", "07", "08", "09", "10", "20"}


class Commitment(models.TextChoices):
    """The four lists (四办四清单)."""

    ON_THE_SPOT = "on_the_spot", _("即收即办")
    SAME_DAY = "same_day", _("当日办结")
    TIME_LIMITED = "time_limited", _("限时办结")
    PROXY = "proxy", _("代办服务")


class LimitUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("工作日")
    NATURAL_DAYS = "natural_days", _("自然日")


class OnlineDepth(models.IntegerChoices):
    INFORMATION = 1, _("Ⅰ 网上咨询")
    BOOKING = 2, _("Ⅱ 网上预约预审")
    ACCEPTANCE = 3, _("Ⅲ 网上受理")
    FULLY_ONLINE = 4, _("Ⅳ 全程网办")


class HandlingForm(models.TextChoices):
    WINDOW = "window", _("窗口办理")
    ONLINE = "online", _("网上办理")
    POST = "post", _("快递申请")


class ServiceObject(models.TextChoices):
    NATURAL_PERSON = "natural_person", _("自然人")
    LEGAL_PERSON = "legal_person", _("法人")


class ResultType(models.TextChoices):
    LICENCE = "licence", _("证照")
    APPROVAL = "approval", _("批文")
    OTHER = "other", _("其他")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    UNDER_REVIEW = "under_review", _("审核中")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已被新版本取代")
    CANCELLED = "cancelled", _("已取消")


class Item(models.Model):
    """One implementation of a basic item by one department (one 实施编码)."""

    implementation_code = models.CharField(_("实施编码"), max_length=31, unique=True)
    basic_code = models.CharField(_("基本编码"), max_length=12, db_index=True)
    department = models.ForeignKey(
        Department, verbose_name=_("实施主体"), on_delete=models.PROTECT, related_name="items"
    )
    current = models.OneToOneField(
        "ItemVersion", verbose_name=_("现行版本"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["implementation_code"]
        verbose_name = _("事项")
        verbose_name_plural = _("事项")

    def __str__(self) -> str:
        name = self.current.name if self.current_id and self.current else ""
        return f"{name} ({self.implementation_code})" if name else self.implementation_code

    @property
    def working_status_is(self) -> ChoiceIs:
        """``item.working_status_is.draft`` in templates: the status of the version being
        worked on, annotated as ``working_status`` by ``reports.staff_items``."""
        return ChoiceIs(getattr(self, "working_status", None) or "", VersionStatus)


class ItemVersion(models.Model):
    """Every field of one version of an item's guide (办事指南)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    name = models.CharField(_("事项名称"), max_length=200)
    item_type = models.CharField(_("事项类型"), max_length=2, choices=ItemType.choices)
    level = models.CharField(_("行使层级"), max_length=16, choices=Level.choices)
    commitment = models.CharField(_("承诺类别"), max_length=16, choices=Commitment.choices)
    legal_limit = models.PositiveIntegerField(_("法定办结时限"))
    legal_limit_unit = models.CharField(_("法定时限单位"), max_length=16, choices=LimitUnit.choices)
    committed_limit = models.PositiveIntegerField(_("承诺办结时限"))
    committed_limit_unit = models.CharField(
        _("承诺时限单位"), max_length=16, choices=LimitUnit.choices
    )
    required_visits = models.PositiveSmallIntegerField(_("到现场次数"))
    visit_reason = models.TextField(_("必须现场办理原因"), blank=True)
    online_depth = models.PositiveSmallIntegerField(_("网上办理深度"), choices=OnlineDepth.choices)
    handling_forms = models.JSONField(_("办理形式"), default=list)
    charges_fee = models.BooleanField(_("是否收费"), default=False)
    fee_standard = models.TextField(_("收费标准"), blank=True)
    fee_basis = models.TextField(_("收费依据"), blank=True)
    conditions = models.TextField(_("受理条件"), blank=True)
    legal_basis = models.TextField(_("设定依据"), blank=True)
    service_objects = models.JSONField(_("服务对象"), default=list)
    topics = models.JSONField(_("主题分类"), default=list)
    location = models.TextField(_("办理地点"), blank=True)
    office_hours = models.TextField(_("办理时间"), blank=True)
    consultation_phone = models.CharField(_("咨询电话"), max_length=40, blank=True)
    complaint_phone = models.CharField(_("监督投诉电话"), max_length=40, blank=True)
    result_type = models.CharField(_("审批结果类型"), max_length=16, choices=ResultType.choices)
    result_name = models.CharField(_("审批结果名称"), max_length=200, blank=True)
    receiving_unit = models.ForeignKey(
        Department, verbose_name=_("代办受理单位"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="proxied_versions",
    )
    special_procedures = models.TextField(_("特别程序"), blank=True)
    process = models.TextField(_("办理流程"), blank=True)
    review_route = models.TextField(_("行政复议/诉讼途径"), blank=True)

    change_note = models.CharField(_("修改说明"), max_length=300, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["item", "-number"]
        verbose_name = _("事项版本")
        verbose_name_plural = _("事项版本")
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="item_version_number_unique"),
            # At most one published version per item: the one the public sees.
            models.UniqueConstraint(
                fields=["item"], condition=models.Q(status="published"),
                name="one_published_version_per_item",
            ),
        ]
        indexes = [models.Index(fields=["status", "commitment"])]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @property
    def status_is(self) -> ChoiceIs:
        """``version.status_is.published`` in templates (``core.choices``)."""
        return ChoiceIs(self.status, VersionStatus)

    @property
    def commitment_is(self) -> ChoiceIs:
        """``version.commitment_is.proxy`` in templates: the list the item is on."""
        return ChoiceIs(self.commitment, Commitment)

    @property
    def decided_on_the_day(self) -> bool:
        """即收即办 and 当日办结: decided on the day of acceptance (no working-day limit)."""
        return self.commitment in {Commitment.ON_THE_SPOT, Commitment.SAME_DAY}

    @property
    def is_frozen(self) -> bool:
        """Published, superseded and cancelled versions never change."""
        return self.status not in {VersionStatus.DRAFT, VersionStatus.UNDER_REVIEW}

    @property
    def is_fully_online(self) -> bool:
        return self.online_depth == OnlineDepth.FULLY_ONLINE


class Material(models.Model):
    """申请材料 of one item version."""

    class MaterialType(models.TextChoices):
        ORIGINAL = "original", _("原件")
        COPY = "copy", _("复印件")
        BOTH = "both", _("原件和复印件")

    class Form(models.TextChoices):
        PAPER = "paper", _("纸质")
        ELECTRONIC = "electronic", _("电子")
        BOTH = "both", _("纸质和电子")

    class Necessity(models.TextChoices):
        REQUIRED = "required", _("必要")
        OPTIONAL = "optional", _("非必要")
        DEFERRABLE = "deferrable", _("容缺")

    class Source(models.TextChoices):
        APPLICANT = "applicant", _("申请人自备")
        GOVERNMENT = "government", _("政府部门核发")
        OTHER = "other", _("其他")

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="materials")
    position = models.PositiveIntegerField(_("序号"))
    name = models.CharField(_("材料名称"), max_length=200)
    material_type = models.CharField(_("材料类型"), max_length=16, choices=MaterialType.choices)
    form = models.CharField(_("材料形式"), max_length=16, choices=Form.choices)
    necessity = models.CharField(_("必要性"), max_length=16, choices=Necessity.choices)
    source = models.CharField(_("来源渠道"), max_length=16, choices=Source.choices)
    licence_type = models.CharField(_("对应电子证照"), max_length=100, blank=True)
    original_copies = models.PositiveSmallIntegerField(_("原件份数"), default=0)
    copy_copies = models.PositiveSmallIntegerField(_("复印件份数"), default=0)
    notes = models.TextField(_("填报须知"), blank=True)
    legal_basis = models.TextField(_("设定依据"), blank=True)

    class Meta:
        ordering = ["version", "position"]
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="material_position_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def deferrable(self) -> bool:
        return self.necessity == self.Necessity.DEFERRABLE

    @property
    def necessity_is(self) -> ChoiceIs:
        """``material.necessity_is.optional`` in templates."""
        return ChoiceIs(self.necessity, self.Necessity)

    @property
    def material_type_is(self) -> ChoiceIs:
        """``material.material_type_is.copy`` in templates."""
        return ChoiceIs(self.material_type, self.MaterialType)


class Fee(models.Model):
    """A structured fee line of a version (the workbook carries the text on the version)."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="fees")
    name = models.CharField(_("收费项目"), max_length=200)
    amount = models.DecimalField(_("金额(元)"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("计费单位"), max_length=50, blank=True)
    basis = models.TextField(_("收费依据"))

    class Meta:
        ordering = ["version", "id"]
        verbose_name = _("收费项目")
        verbose_name_plural = _("收费项目")

    def __str__(self) -> str:
        return f"{self.name} {self.amount}"


class Faq(models.Model):
    """常见问题 of a version."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="faqs")
    position = models.PositiveIntegerField(_("序号"), default=0)
    question = models.TextField(_("问题"))
    answer = models.TextField(_("解答"))

    class Meta:
        ordering = ["version", "position"]
        verbose_name = _("常见问题")
        verbose_name_plural = _("常见问题")

    def __str__(self) -> str:
        return self.question[:40]


class Synonym(models.Model):
    """A search synonym group edited by the bureau: a query for ``term`` also finds ``synonyms``.

    Example: term 社保, synonyms 社会保险;养老保险.
    """

    term = models.CharField(_("词语"), max_length=50, unique=True)
    synonyms = models.CharField(_("同义词（分号分隔）"), max_length=500)

    class Meta:
        ordering = ["term"]
        verbose_name = _("搜索同义词")
        verbose_name_plural = _("搜索同义词")

    def __str__(self) -> str:
        return self.term

    def synonym_list(self) -> list[str]:
        return [s.strip() for s in self.synonyms.replace("；", ";").split(";") if s.strip()]


class SearchEntry(models.Model):
    """Segmented text of an item's current version, fed to the full-text index.

    On SQLite an FTS5 table mirrors this table (created in a migration); on PostgreSQL the
    ``tokens`` column is indexed as ``to_tsvector('simple', tokens)`` with GIN.
    """

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="search_entry")
    name_tokens = models.TextField()
    tokens = models.TextField()

    class Meta:
        verbose_name = _("搜索索引")
        verbose_name_plural = _("搜索索引")

    def __str__(self) -> str:
        return self.name_tokens


class FormDefinition(models.Model):
    """The application form (申请表) of an item as data: a list of typed fields.

    Versioned like the guide: a saved version never changes; editing saves the next version and
    makes it the active one (``catalog.form_definitions.form_definition_save`` checks and writes it).
    Items without an active definition use the default form. A case records the id and version
    of the definition it was filled under in ``Case.form_data["_form"]``.
    """

    item = models.ForeignKey(Item, verbose_name=_("事项"), on_delete=models.PROTECT,
                             related_name="form_definitions")
    version = models.PositiveIntegerField(_("版本号"))
    fields = models.JSONField(_("表单字段"), default=list)
    is_active = models.BooleanField(_("现行版本"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )

    class Meta:
        ordering = ["item", "-version"]
        verbose_name = _("申请表定义")
        verbose_name_plural = _("申请表定义")
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="form_definition_version_unique"),
            models.UniqueConstraint(fields=["item"], condition=models.Q(is_active=True),
                                    name="one_active_form_definition_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item.implementation_code} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Cases point at a version by id: its fields must never change once saved. Only the
        # active flag moves, when a newer version takes over.
        if self.pk is not None and set(kwargs.get("update_fields") or ()) != {"is_active"}:
            raise RuntimeError("a saved form definition version is frozen")
        super().save(*args, **kwargs)
