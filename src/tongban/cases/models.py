"""Cases (办件): an application from submission to delivered result, and its append-only history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import Item, ItemVersion, Material
from tongban.core.choices import ChoiceIs
from tongban.core.encrypted import EncryptedJSONField, EncryptedTextField, material_storage
from tongban.organizations.models import Department, Hall, Window


class Channel(models.TextChoices):
    ONLINE = "online", _("网上申请")
    WINDOW = "window", _("窗口受理")
    MOBILE = "mobile", _("移动端")
    TERMINAL = "terminal", _("自助终端")
    POST = "post", _("邮寄申请")


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    PRE_REVIEW = "pre_review", _("预审中")
    SUPPLEMENT = "supplement", _("待补正")
    ACCEPTED = "accepted", _("已受理（办理中）")
    SUSPENDED = "suspended", _("特别程序（暂停计时）")
    HALTED = "halted", _("中止（暂停计时）")
    APPROVED = "approved", _("准予办理")
    DENIED = "denied", _("不予办理")
    DELIVERED = "delivered", _("已送达")
    REFUSED = "refused", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")
    TERMINATED = "terminated", _("已终止")


# Cases whose clock has started and which are not decided (the head's open cases).
OPEN_CASE_STATUSES = (Status.ACCEPTED, Status.SUSPENDED, Status.HALTED, Status.SUPPLEMENT)


class ApplicantKind(models.TextChoices):
    NATURAL = "natural_person", _("自然人")
    LEGAL = "legal_person", _("法人")


class Delivery(models.TextChoices):
    PICKUP = "pickup", _("窗口领取")
    POST = "post", _("邮寄送达")
    ONLINE = "online", _("网上送达")


class DeadlineState(models.TextChoices):
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("预警")
    RED = "red", _("超期")


class Case(models.Model):
    """One application (办件). Pins the item version and workflow version it was made under."""

    number = models.CharField(_("办件编号"), max_length=32, unique=True, null=True, blank=True)
    item = models.ForeignKey(Item, verbose_name=_("事项"), on_delete=models.PROTECT,
                             related_name="cases")
    item_version = models.ForeignKey(ItemVersion, verbose_name=_("事项版本"),
                                     on_delete=models.PROTECT, related_name="cases")
    workflow = models.ForeignKey("workflows.WorkflowDefinition", verbose_name=_("办理流程版本"),
                                 null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="cases")
    # No index of its own on department, receiving_unit, hall, applicant, agent and due_at:
    # each leads a composite index of Meta.indexes.
    department = models.ForeignKey(Department, verbose_name=_("实施主体"),
                                   on_delete=models.PROTECT, related_name="cases", db_index=False)
    receiving_unit = models.ForeignKey(Department, verbose_name=_("代办受理单位"), null=True,
                                       blank=True, on_delete=models.PROTECT, related_name="+",
                                       db_index=False)
    hall = models.ForeignKey(Hall, verbose_name=_("受理大厅"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="cases", db_index=False)
    channel = models.CharField(_("申请渠道"), max_length=16, choices=Channel.choices)
    # No index of its own: the (status, due_at) index below serves every look-up by status,
    # and each transition changes the status (one index fewer to rewrite at each step).
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices,
                              default=Status.DRAFT)
    # Optimistic lock: every transition increments it; a stale writer gets a conflict.
    version = models.PositiveIntegerField(default=0)
    # How many history events the case has: the next event's ``seq`` is this plus one. Kept on
    # the locked case row so that appending an event needs no read of the history.
    event_count = models.PositiveIntegerField(default=0, editable=False)

    # The applicant as identified when applying (a walk-in may have no account).
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人账户"),
                                  null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="cases", db_index=False)
    applicant_kind = models.CharField(_("申请人类型"), max_length=16, choices=ApplicantKind.choices)
    applicant_name = models.CharField(_("申请人"), max_length=100)
    # Stored SM4-encrypted (docs/privacy.md).
    applicant_id_number = EncryptedTextField(_("证件号码"), max_length=18)
    applicant_phone = EncryptedTextField(_("联系电话"), max_length=20, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("代理人账户"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="agent_cases",
                              db_index=False)
    agent_name = models.CharField(_("代理人"), max_length=100, blank=True)
    agent_id_number = EncryptedTextField(_("代理人证件号码"), max_length=18, blank=True)
    authorization = models.TextField(_("授权委托说明"), blank=True)

    # Stored SM4-encrypted (it holds contact phones, ID numbers...): no look-up inside it.
    form_data = EncryptedJSONField(_("申请表"), default=dict)
    idempotency_key = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("办结时限"), null=True, blank=True)
    due_provisional = models.BooleanField(_("时限为暂定"), default=False)
    extension_working_days = models.PositiveIntegerField(_("延期工作日"), default=0)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    result_name = models.CharField(_("办理结果"), max_length=200, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    delivery = models.CharField(_("送达方式"), max_length=16, choices=Delivery.choices, blank=True)
    closed_reason = models.TextField(_("撤回/终止/不予受理理由"), blank=True)
    visits = models.PositiveSmallIntegerField(_("跑动次数"), default=0)
    excess_visits = models.BooleanField(_("跑动次数超过承诺"), default=False)
    deadline_state = models.CharField(_("时限状态"), max_length=8, choices=DeadlineState.choices,
                                      default=DeadlineState.GREEN)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        constraints = [
            models.UniqueConstraint(fields=["applicant", "idempotency_key"],
                                    condition=~models.Q(idempotency_key=""),
                                    name="case_idempotency_key_unique"),
        ]
        # The lists read in index order (docs/cases.md, "Query plans of the lists"): one index
        # per branch of who-sees-what, ending in the sort key and the id (keyset pages). They
        # replace the single-column indexes of their first field (written on every change).
        indexes = [models.Index(fields=["department", "status"]),
                   models.Index(fields=["status", "due_at"]),
                   # The oversight figures count by period of decision and of acceptance;
                   # the trend's counts are answered from these indexes alone (covering).
                   models.Index(fields=["decided_at", "status", "due_at"],
                                name="case_decided_at"),
                   models.Index(fields=["accepted_at", "status"], name="case_accepted_at"),
                   models.Index(fields=["applicant", "created_at", "id"],
                                name="case_applicant_created"),
                   # Most cases have no agent, hall or receiving unit: not in these indexes.
                   models.Index(fields=["agent", "created_at", "id"], name="case_agent_created",
                                condition=models.Q(agent__isnull=False)),
                   models.Index(fields=["department", "created_at", "id"],
                                name="case_department_created"),
                   models.Index(fields=["hall", "created_at", "id"], name="case_hall_created",
                                condition=models.Q(hall__isnull=False)),
                   models.Index(fields=["receiving_unit", "created_at", "id"],
                                name="case_unit_created",
                                condition=models.Q(receiving_unit__isnull=False)),
                   models.Index(fields=["created_at", "id"], name="case_created"),
                   models.Index(fields=["due_at", "id"], name="case_due"),
                   models.Index(fields=["department", "due_at", "id"], name="case_department_due"),
                   # The head's view: a department's open cases by due instant, without
                   # walking its decided ones (``workbench_selectors.OPEN_CASE``).
                   models.Index(fields=["department", "due_at", "id"],
                                name="case_open_department_due",
                                condition=models.Q(status__in=OPEN_CASE_STATUSES))]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def status_is(self) -> ChoiceIs:
        """``case.status_is.halted`` in templates (``core.choices``)."""
        return ChoiceIs(self.status, Status)


# The actions that close a case without a decision (its status then never changes again); the
# dashboard's daily rollup counts them by day (``supervision.rollups``) through the partial
# index ``case_event_closing_at``. One order everywhere: SQLite uses a partial index only when
# the query repeats its condition term for term.
CLOSING_ACTIONS = ("refuse", "terminate", "withdraw")


class CaseEvent(models.Model):
    """One transition or action on a case. Append-only: never updated, never deleted."""

    # No index by case of its own: the unique (case, seq) index serves every look-up by case,
    # and each transition would write both. The one other index is partial: only the few
    # closing events (refusal, withdrawal, termination) are written to it.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events",
                             db_index=False)
    seq = models.PositiveIntegerField()
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField(_("操作人"), max_length=100, blank=True)
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16)
    reason = models.TextField(_("理由/说明"), blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["case", "seq"]
        verbose_name = _("办件记录")
        verbose_name_plural = _("办件记录")
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique")]
        indexes = [models.Index(fields=["at"], name="case_event_closing_at",
                                condition=models.Q(action__in=CLOSING_ACTIONS))]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise RuntimeError("case events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise RuntimeError("case events are append-only")


class CaseMaterial(models.Model):
    """A material supplied (or promised, for 容缺) for a case."""

    class State(models.TextChoices):
        SUPPLIED = "supplied", _("已提交")
        PROMISED = "promised", _("容缺（承诺后补）")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey(Material, verbose_name=_("材料"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("材料名称"), max_length=200)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.SUPPLIED)
    # Stored SM4-encrypted; read only through the views that check who may read it.
    file = models.FileField(_("文件"), upload_to="cases/%Y/%m/", blank=True,
                            storage=material_storage)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    checked_at_window = models.BooleanField(_("窗口已核验原件"), default=False)
    promise = models.TextField(_("书面承诺"), blank=True)
    promised_by = models.DateField(_("承诺补交日期"), null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    superseded = models.BooleanField(default=False)

    class Meta:
        ordering = ["case", "pk"]
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")

    def __str__(self) -> str:
        return self.name

    @property
    def state_is(self) -> ChoiceIs:
        """``record.state_is.promised`` in templates: supplied, or promised (容缺)."""
        return ChoiceIs(self.state, self.State)


class Notice(models.Model):
    """A written notice to the applicant (acceptance, one-time supplement, refusal, ...)."""

    class Kind(models.TextChoices):
        ACCEPTANCE = "acceptance", _("受理通知书")
        SUPPLEMENT = "supplement", _("一次性告知书")
        REFUSAL = "refusal", _("不予受理通知书")
        SUSPENSION = "suspension", _("特别程序告知书")
        HALT = "halt", _("中止办理告知书")
        EXTENSION = "extension", _("延期办理告知书")
        DECISION = "decision", _("办理决定书")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    number = models.CharField(_("文书编号"), max_length=40, unique=True)
    issued_at = models.DateTimeField(_("出具时间"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    body = models.JSONField(_("内容"), default=dict)
    resolved_at = models.DateTimeField(_("已处理时间"), null=True, blank=True)

    class Meta:
        ordering = ["case", "issued_at"]
        verbose_name = _("告知文书")
        verbose_name_plural = _("告知文书")

    def __str__(self) -> str:
        return self.number


class SpecialProcedure(models.TextChoices):
    """The special procedures of 行政许可法 Art. 45, whose time is not counted."""

    HEARING = "hearing", _("听证")
    TENDER = "tender", _("招标")
    AUCTION = "auction", _("拍卖")
    INSPECTION = "inspection", _("检验")
    TESTING = "testing", _("检测")
    QUARANTINE = "quarantine", _("检疫")
    APPRAISAL = "appraisal", _("鉴定")
    EXPERT_REVIEW = "expert_review", _("专家评审")


class HaltGround(models.TextChoices):
    """Why a case is halted (中止)."""

    LEGAL = "legal", _("法定事由")
    APPLICANT = "applicant", _("申请人申请")


class ClockStop(models.Model):
    """A period the clock does not run: special procedure, suspension, supplement after acceptance."""

    class Kind(models.TextChoices):
        SPECIAL_PROCEDURE = "special_procedure", _("特别程序")
        SUSPENSION = "suspension", _("中止办理")
        SUPPLEMENT = "supplement", _("受理后补正")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clock_stops")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    # A special procedure's kind (Art. 45); a suspension's ground.
    procedure = models.CharField(_("特别程序种类"), max_length=16, blank=True,
                                 choices=SpecialProcedure.choices)
    ground = models.CharField(_("中止事由类型"), max_length=16, blank=True,
                              choices=HaltGround.choices)
    reason = models.TextField(_("理由"))
    expected_working_days = models.PositiveIntegerField(_("预计工作日"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始"))
    ended_at = models.DateTimeField(_("结束"), null=True, blank=True)

    class Meta:
        ordering = ["case", "started_at"]
        verbose_name = _("暂停计时")
        verbose_name_plural = _("暂停计时")

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class Extension(models.Model):
    """An extension request (延期), approved or rejected by the department head."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("待批准")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    working_days = models.PositiveIntegerField(_("延长工作日"))
    reason = models.TextField(_("理由"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    decision_note = models.TextField(_("意见"), blank=True)

    class Meta:
        ordering = ["case", "requested_at"]
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")

    def __str__(self) -> str:
        return f"{self.case_id} +{self.working_days}"


class Visit(models.Model):
    """An in-person interaction (跑动) of the applicant or agent on this case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="visit_records")
    at = models.DateTimeField(_("时间"))
    hall = models.ForeignKey(Hall, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    window = models.ForeignKey(Window, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    purpose = models.CharField(_("事由"), max_length=100)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["case", "at"]
        verbose_name = _("跑动记录")
        verbose_name_plural = _("跑动记录")

    def __str__(self) -> str:
        return f"{self.case_id} {self.at:%Y-%m-%d} {self.purpose}"


class CaseCounter(models.Model):
    """Daily sequence behind case numbers (one row per day and division)."""

    day = models.DateField()
    division_code = models.CharField(max_length=12)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "division_code"],
                                               name="case_counter_unique")]

    def __str__(self) -> str:
        return f"{self.division_code}{self.day:%Y%m%d}:{self.value}"
