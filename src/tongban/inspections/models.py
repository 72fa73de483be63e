"""双随机一公开: random inspections after approval.

Directories (名录) of market entities and of inspectors, the declared conflicts between them and
the inspection-item lists are imported from workbooks (``workbook.py``). A draw task (抽查任务)
filters the directories into two pools, stores a snapshot and a SHA-256 of each with the seed,
and draws entities and, for each entity, at least two inspectors (``draw.py`` documents the
algorithm). Inspectors record a result per drawn entity; published tasks and their results are
shown on the public page ``/inspections/``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MIN_INSPECTORS_PER_ENTITY = 2  # 双随机: at least two law-enforcement officers per inspection


class EntityType(models.TextChoices):
    LIMITED_COMPANY = "limited_company", _("有限责任公司")
    JOINT_STOCK = "joint_stock", _("股份有限公司")
    SOLE_PROPRIETORSHIP = "sole_proprietorship", _("个人独资企业")
    PARTNERSHIP = "partnership", _("合伙企业")
    INDIVIDUAL = "individual", _("个体工商户")
    COOPERATIVE = "cooperative", _("农民专业合作社")
    BRANCH = "branch", _("分支机构")


class RiskLevel(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")


class MarketEntity(models.Model):
    """市场主体 of the directory of inspected entities, keyed by 统一社会信用代码."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    entity_type = models.CharField(_("主体类型"), max_length=32, choices=EntityType.choices)
    industry = models.CharField(_("行业"), max_length=100)
    division = models.ForeignKey("organizations.Division", verbose_name=_("行政区划"),
                                 on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("住所（经营场所）"), max_length=200, blank=True)
    risk_level = models.CharField(_("风险等级"), max_length=8, choices=RiskLevel.choices)
    department = models.ForeignKey("organizations.Department", verbose_name=_("监管部门"),
                                   on_delete=models.PROTECT, related_name="inspected_entities")

    class Meta:
        ordering = ["uscc"]
        verbose_name = _("市场主体")
        verbose_name_plural = _("市场主体名录")

    def __str__(self) -> str:
        return self.name


class Inspector(models.Model):
    """检查人员 of the directory of law-enforcement officers, keyed by certificate number."""

    certificate_number = models.CharField(_("执法证号"), max_length=32, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    department = models.ForeignKey("organizations.Department", verbose_name=_("所属部门"),
                                   on_delete=models.PROTECT, related_name="inspectors")
    active = models.BooleanField(_("在岗"), default=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("平台账户"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="inspector",
        help_text=_("该检查人员登录平台录入检查结果所用的账户"))

    class Meta:
        ordering = ["certificate_number"]
        verbose_name = _("检查人员")
        verbose_name_plural = _("检查人员名录")

    def __str__(self) -> str:
        return f"{self.name}（{self.certificate_number}）"


class Conflict(models.Model):
    """A declared conflict of interest: the inspector recuses from inspecting the entity."""

    inspector = models.ForeignKey(Inspector, verbose_name=_("检查人员"), on_delete=models.CASCADE,
                                  related_name="conflicts")
    entity = models.ForeignKey(MarketEntity, verbose_name=_("市场主体"), on_delete=models.CASCADE,
                               related_name="conflicts")
    reason = models.CharField(_("回避事由"), max_length=200)

    class Meta:
        ordering = ["inspector", "entity"]
        verbose_name = _("回避关系")
        verbose_name_plural = _("回避关系")
        constraints = [models.UniqueConstraint(fields=["inspector", "entity"],
                                               name="inspection_conflict_unique")]

    def __str__(self) -> str:
        return f"{self.inspector} ↔ {self.entity}"


class InspectionItem(models.Model):
    """An entry of a department's 检查事项清单."""

    code = models.CharField(_("事项编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=200)
    department = models.ForeignKey("organizations.Department", verbose_name=_("部门"),
                                   on_delete=models.PROTECT, related_name="inspection_items")
    basis = models.TextField(_("检查依据"))
    method = models.CharField(_("检查方式"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("检查事项")
        verbose_name_plural = _("检查事项清单")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TaskStatus(models.TextChoices):
    DRAFT = "draft", _("待抽取")
    DRAWN = "drawn", _("已抽取")
    PUBLISHED = "published", _("已公示")


class DrawTask(models.Model):
    """抽查任务: filters and a sampling ratio, then (once drawn) the frozen draw.

    Filters are lists of values; an empty list does not restrict. Once drawn the pools, their
    hashes, the seed and the drawn rows never change; publishing shows them on the public page.
    """

    department = models.ForeignKey("organizations.Department", verbose_name=_("部门"),
                                   on_delete=models.PROTECT, related_name="draw_tasks")
    name = models.CharField(_("任务名称"), max_length=200)
    items = models.ManyToManyField(InspectionItem, verbose_name=_("检查事项"), related_name="tasks")
    industries = models.JSONField(_("行业"), default=list, blank=True)
    division_codes = models.JSONField(_("行政区划"), default=list, blank=True)
    risk_levels = models.JSONField(_("风险等级"), default=list, blank=True)
    entity_types = models.JSONField(_("主体类型"), default=list, blank=True)
    ratio_percent = models.DecimalField(_("抽查比例（%）"), max_digits=5, decimal_places=2,
                                        null=True, blank=True)
    count = models.PositiveIntegerField(_("抽查户数"), null=True, blank=True)
    inspectors_per_entity = models.PositiveSmallIntegerField(
        _("每户检查人员数"), default=MIN_INSPECTORS_PER_ENTITY)
    seed = models.CharField(_("随机种子"), max_length=64, blank=True,
                            help_text=_("留空时在抽取时由系统随机生成"))
    status = models.CharField(_("状态"), max_length=16, choices=TaskStatus.choices,
                              default=TaskStatus.DRAFT)
    algorithm = models.CharField(_("抽取算法版本"), max_length=16, blank=True)
    entity_pool = models.JSONField(_("市场主体库快照"), default=list, blank=True)
    inspector_pool = models.JSONField(_("检查人员库快照"), default=list, blank=True)
    entity_pool_hash = models.CharField(_("市场主体库哈希"), max_length=64, blank=True)
    inspector_pool_hash = models.CharField(_("检查人员库哈希"), max_length=64, blank=True)
    # Reasons of the conflicts in the inspector pool (internal; not hashed, not published).
    conflict_reasons = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    drawn_at = models.DateTimeField(_("抽取时间"), null=True, blank=True)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(_("公示时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("抽查任务")
        verbose_name_plural = _("抽查任务")

    def __str__(self) -> str:
        return self.name

    @property
    def risk_level_labels(self) -> list[str]:
        return [str(RiskLevel(v).label) for v in self.risk_levels if v in RiskLevel.values]

    @property
    def entity_type_labels(self) -> list[str]:
        return [str(EntityType(v).label) for v in self.entity_types if v in EntityType.values]


class ResultKind(models.TextChoices):
    NO_PROBLEM = "no_problem", _("未发现问题")
    RECTIFICATION = "rectification", _("发现问题已责令整改")
    FOLLOW_UP = "follow_up", _("发现问题待后续处理")
    NOT_FOUND = "not_found", _("未发现经营（查无下落）")
    UNREACHABLE = "unreachable", _("通过登记的住所（经营场所）无法联系")
    NO_ACTIVITY = "no_activity", _("未发现开展本次抽查涉及的经营活动")
    NOT_COOPERATIVE = "not_cooperative", _("不配合检查")
    DEREGISTERED = "deregistered", _("已注销或被吊销营业执照")


class DrawnEntity(models.Model):
    """A drawn entity of a task (in draw order), with its inspection result once recorded."""

    task = models.ForeignKey(DrawTask, on_delete=models.CASCADE, related_name="drawn")
    position = models.PositiveIntegerField(_("抽取顺序"))
    entity = models.ForeignKey(MarketEntity, verbose_name=_("市场主体"), on_delete=models.PROTECT,
                               related_name="+")
    uscc = models.CharField(_("统一社会信用代码"), max_length=18)
    name = models.CharField(_("名称"), max_length=200)
    recused = models.JSONField(_("回避人员"), default=list, blank=True)
    result = models.CharField(_("检查结果"), max_length=32, choices=ResultKind.choices, blank=True)
    findings = models.TextField(_("检查情况"), blank=True)
    inspected_on = models.DateField(_("检查日期"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), null=True, blank=True)

    class Meta:
        ordering = ["task", "position"]
        verbose_name = _("抽中主体")
        verbose_name_plural = _("抽中主体")
        constraints = [
            models.UniqueConstraint(fields=["task", "position"], name="drawn_entity_position_unique"),
            models.UniqueConstraint(fields=["task", "uscc"], name="drawn_entity_uscc_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class DrawnInspector(models.Model):
    """An inspector drawn for one drawn entity (in draw order)."""

    drawn_entity = models.ForeignKey(DrawnEntity, on_delete=models.CASCADE, related_name="inspectors")
    position = models.PositiveSmallIntegerField()
    inspector = models.ForeignKey(Inspector, on_delete=models.PROTECT, related_name="+")
    certificate_number = models.CharField(_("执法证号"), max_length=32)
    name = models.CharField(_("姓名"), max_length=50)

    class Meta:
        ordering = ["drawn_entity", "position"]
        constraints = [models.UniqueConstraint(fields=["drawn_entity", "position"],
                                               name="drawn_inspector_position_unique")]

    def __str__(self) -> str:
        return f"{self.name}（{self.certificate_number}）"
