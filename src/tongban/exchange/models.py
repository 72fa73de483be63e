"""The data layer: data elements (数据元), code lists, the data resource catalog (政务数据资源目录),
supply–demand matching (供需对接), grants and the audited exchange between departments.

Rules: the product brief's domain §7 (catalog, elements, sharing) and §10 (privacy). What a value
of an element may be is decided in one place, :mod:`tongban.exchange.elements`; every door where
such a value is entered (application forms, resource uploads, the exchange) asks it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.encrypted import BlindIndexField, EncryptedJSONField, EncryptedTextField


class CodeList(models.Model):
    """代码集: the allowed values of a coded element (GB/T 2261.1 sex, GB/T 2260 divisions, …)."""

    code = models.CharField(_("代码集标识"), max_length=40, unique=True,
                            help_text=_("如 GB/T 2261.1"))
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    standard = models.CharField(_("依据标准"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("代码集")
        verbose_name_plural = _("代码集")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CodeEntry(models.Model):
    """One value of a code list, with what it reads as."""

    code_list = models.ForeignKey(CodeList, on_delete=models.CASCADE, related_name="entries",
                                  verbose_name=_("代码集"))
    value = models.CharField(_("代码"), max_length=40)
    label = models.CharField(_("名称"), max_length=200)
    label_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    parent_value = models.CharField(_("上级代码"), max_length=40, blank=True)
    position = models.PositiveIntegerField(_("序号"), default=0)

    class Meta:
        ordering = ["code_list", "position", "value"]
        verbose_name = _("代码项")
        verbose_name_plural = _("代码项")
        constraints = [models.UniqueConstraint(fields=["code_list", "value"],
                                               name="code_entry_value_unique")]

    def __str__(self) -> str:
        return f"{self.value} {self.label}"


class ElementStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已废止")


class DataType(models.TextChoices):
    """GB/T 19488.1 data types, as the Chinese element standards name them."""

    STRING = "string", _("字符型")
    INTEGER = "integer", _("整数型")
    DECIMAL = "decimal", _("数值型")
    DATE = "date", _("日期型")
    DATETIME = "datetime", _("日期时间型")
    BOOLEAN = "boolean", _("布尔型")


class DomainKind(models.TextChoices):
    """值域: what values an element admits beyond its data type."""

    FREE = "free", _("非枚举（自由文本）")
    PATTERN = "pattern", _("格式规则（正则表达式）")
    CODE_LIST = "code_list", _("代码集")
    CHECKED = "checked", _("校验规则（带校验位的标识码）")


class Checker(models.TextChoices):
    """Identifiers checked by their own algorithm (python-stdnum), not a pattern alone."""

    ID_NUMBER = "id_number", _("公民身份号码（GB 11643）")
    USCC = "uscc", _("统一社会信用代码（GB 32100）")
    MOBILE = "mobile", _("手机号码")
    PHONE = "phone", _("电话号码（手机或带区号的固定电话）")


class DataElement(models.Model):
    """数据元 (GB/T 19488.1): a unit of data with its definition, representation and value domain.

    The identifier is stable; a published element's meaning never changes under the same
    identifier — a change of representation is a new ``version``, approved again. Form fields,
    resource data items and e-licence surface fields refer to elements by this row.
    """

    identifier = models.CharField(_("内部标识符"), max_length=20, unique=True,
                                  help_text=_("如 DE00001"))
    name = models.CharField(_("中文名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    definition = models.TextField(_("说明（定义）"))
    object_class = models.CharField(_("对象类词"), max_length=50, blank=True,
                                    help_text=_("如 人、法人、不动产"))
    property_term = models.CharField(_("特性词"), max_length=50, blank=True,
                                     help_text=_("如 姓名、身份号码"))
    representation = models.CharField(_("表示词"), max_length=50, blank=True,
                                      help_text=_("如 名称、代码、日期、金额"))
    data_type = models.CharField(_("数据类型"), max_length=16, choices=DataType.choices)
    format = models.CharField(_("表示格式"), max_length=40, blank=True,
                              help_text=_("GB/T 19488.1 记法，如 a..50、n18、YYYYMMDD"))
    max_length = models.PositiveIntegerField(_("最大长度"), null=True, blank=True)
    domain_kind = models.CharField(_("值域类型"), max_length=16, choices=DomainKind.choices,
                                   default=DomainKind.FREE)
    pattern = models.CharField(_("格式规则"), max_length=300, blank=True)
    code_list = models.ForeignKey(CodeList, verbose_name=_("代码集"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="elements")
    checker = models.CharField(_("校验规则"), max_length=16, choices=Checker.choices, blank=True)
    unit = models.CharField(_("计量单位"), max_length=20, blank=True)
    synonyms = models.JSONField(_("同义名称"), default=list, blank=True)
    personal = models.BooleanField(
        _("个人信息"), default=False,
        help_text=_("可识别自然人的信息（个人信息保护法第四条）：不得开放，共享时按授权脱敏"))
    status = models.CharField(_("状态"), max_length=16, choices=ElementStatus.choices,
                              default=ElementStatus.DRAFT)
    version = models.PositiveIntegerField(_("版本"), default=1)
    submitter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交人"), null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    submitting_department = models.ForeignKey(
        "organizations.Department", verbose_name=_("提交单位"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+")
    approved_on = models.DateField(_("批准日期"), null=True, blank=True)
    # 数源确认: the one department whose data is authoritative for this element.
    source_department = models.ForeignKey(
        "organizations.Department", verbose_name=_("数源部门"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="sourced_elements")
    source_confirmed_at = models.DateTimeField(_("数源确认时间"), null=True, blank=True)
    source_reason = models.TextField(_("数源确认说明"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["identifier"]
        verbose_name = _("数据元")
        verbose_name_plural = _("数据元")
        indexes = [models.Index(fields=["status", "name"], name="element_status_name")]

    def __str__(self) -> str:
        return f"{self.identifier} {self.name}"

    @property
    def is_published(self) -> bool:
        return self.status == ElementStatus.PUBLISHED

    @property
    def is_draft(self) -> bool:
        return self.status == ElementStatus.DRAFT

    @property
    def is_retired(self) -> bool:
        return self.status == ElementStatus.RETIRED


# --- the data resource catalog -------------------------------------------------------------------

class Classification(models.TextChoices):
    BASIC = "basic", _("基础信息资源")
    THEME = "theme", _("主题信息资源")
    DEPARTMENT = "department", _("部门信息资源")


class ShareType(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("无条件共享")
    CONDITIONAL = "conditional", _("有条件共享")
    NONE = "none", _("不予共享")


class ShareMethod(models.TextChoices):
    TABLE = "table", _("库表")
    FILE = "file", _("文件")
    INTERFACE = "interface", _("接口")


class OpenType(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("无条件开放")
    CONDITIONAL = "conditional", _("有条件开放")
    NONE = "none", _("不予开放")


class UpdateCycle(models.TextChoices):
    REALTIME = "realtime", _("实时")
    DAILY = "daily", _("每日")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")
    YEARLY = "yearly", _("每年")
    IRREGULAR = "irregular", _("不定期")


class Network(models.TextChoices):
    EXTRANET = "extranet", _("电子政务外网")
    INTERNET = "internet", _("互联网")
    PRIVATE = "private", _("部门专网")


class ResourceStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    UNDER_REVIEW = "under_review", _("审核中")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已被取代")
    REJECTED = "rejected", _("已退回")


class Resource(models.Model):
    """政务数据资源: the stable identity of a catalog entry; what it says lives in versions.

    ``current`` is the published version (None until the first is published). A department's data
    officer drafts a version, the data bureau reviews and publishes it; a published version is
    frozen.
    """

    code = models.CharField(_("资源代码"), max_length=60, unique=True)
    provider = models.ForeignKey("organizations.Department", verbose_name=_("资源提供方"),
                                 on_delete=models.PROTECT, related_name="data_resources")
    current = models.ForeignKey("ResourceVersion", verbose_name=_("现行版本"), null=True,
                                blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("政务数据资源")
        verbose_name_plural = _("政务数据资源")

    def __str__(self) -> str:
        return self.code


class ResourceVersion(models.Model):
    """One version of a resource's catalog entry (every field of domain §7)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="versions",
                                 verbose_name=_("资源"))
    version = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(_("状态"), max_length=16, choices=ResourceStatus.choices,
                              default=ResourceStatus.DRAFT)
    classification = models.CharField(_("资源分类"), max_length=16,
                                      choices=Classification.choices)
    category_code = models.CharField(_("类目编码"), max_length=20,
                                     help_text=_("类（1位）项（2位）目（3位）细目，如 101001"))
    name = models.CharField(_("资源名称"), max_length=200)
    summary = models.TextField(_("资源摘要"))
    format = models.CharField(_("资源格式"), max_length=60,
                              help_text=_("如 数据库表、电子表格、接口（JSON）"))
    share_type = models.CharField(_("共享类型"), max_length=16, choices=ShareType.choices)
    share_condition = models.TextField(_("共享条件"), blank=True)
    share_basis = models.TextField(_("不予共享依据"), blank=True)
    share_method = models.CharField(_("共享方式"), max_length=16, choices=ShareMethod.choices)
    open_type = models.CharField(_("开放属性"), max_length=16, choices=OpenType.choices,
                                 default=OpenType.NONE)
    open_condition = models.TextField(_("开放条件"), blank=True)
    update_cycle = models.CharField(_("更新周期"), max_length=16, choices=UpdateCycle.choices)
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    network = models.CharField(_("所在网络"), max_length=16, choices=Network.choices,
                               default=Network.EXTRANET)
    related_items = models.JSONField(_("关联服务事项"), default=list, blank=True,
                                     help_text=_("事项实施编码"))
    related_resources = models.JSONField(_("关联资源"), default=list, blank=True,
                                         help_text=_("资源代码"))
    endpoint_url = models.URLField(_("接口地址"), blank=True,
                                   help_text=_("共享方式为接口时，提供方接口的地址"))
    review_note = models.TextField(_("审核意见"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("编制人"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审核人"),
                                    null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        ordering = ["resource", "-version"]
        verbose_name = _("资源目录版本")
        verbose_name_plural = _("资源目录版本")
        constraints = [
            models.UniqueConstraint(fields=["resource", "version"],
                                    name="resource_version_unique"),
            models.UniqueConstraint(fields=["resource"],
                                    condition=models.Q(status__in=[ResourceStatus.DRAFT,
                                                                   ResourceStatus.UNDER_REVIEW]),
                                    name="one_open_resource_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def is_submittable(self) -> bool:
        """A draft, or a version the bureau sent back: its department may submit it."""
        return self.status in (ResourceStatus.DRAFT, ResourceStatus.REJECTED)


class ResourceField(models.Model):
    """信息项: one data item of a resource version, bound to a published data element."""

    version = models.ForeignKey(ResourceVersion, on_delete=models.CASCADE, related_name="fields",
                                verbose_name=_("资源目录版本"))
    position = models.PositiveIntegerField(_("序号"))
    name = models.CharField(_("信息项名称"), max_length=100)
    key = models.CharField(_("字段名"), max_length=40,
                           help_text=_("英文标识，交换接口中使用，如 name、id_number"))
    element = models.ForeignKey(DataElement, verbose_name=_("数据元"), on_delete=models.PROTECT,
                                related_name="resource_fields")
    is_subject = models.BooleanField(
        _("主体标识"), default=False,
        help_text=_("按此项（公民身份号码或统一社会信用代码）查询记录"))
    is_source = models.BooleanField(
        _("数源"), default=False, help_text=_("本部门是该数据元的权威来源（申报数源）"))

    class Meta:
        ordering = ["version", "position"]
        verbose_name = _("信息项")
        verbose_name_plural = _("信息项")
        constraints = [
            models.UniqueConstraint(fields=["version", "position"],
                                    name="resource_field_position_unique"),
            models.UniqueConstraint(fields=["version", "key"], name="resource_field_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ResourceRecord(models.Model):
    """A record held by the platform for a 库表/文件 resource: the provider's row for one subject
    (a person by ID number, a company by USCC), its values typed by the data elements.

    The subject is kept only as a keyed blind index; the values, which hold personal data, are
    encrypted at rest like every other personal field of the platform.
    """

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="records",
                                 verbose_name=_("资源"))
    subject = EncryptedTextField(_("主体标识"))
    subject_index = BlindIndexField(_("主体标识索引"), source="subject")
    values = EncryptedJSONField(_("记录"), default=dict)
    as_of = models.DateTimeField(_("数据日期"))
    batch = models.ForeignKey("RecordBatch", verbose_name=_("导入批次"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="records")

    class Meta:
        verbose_name = _("资源记录")
        verbose_name_plural = _("资源记录")
        constraints = [models.UniqueConstraint(fields=["resource", "subject_index"],
                                               name="resource_record_subject_unique")]

    def __str__(self) -> str:
        return f"{self.resource_id}:{self.pk}"


class RecordBatch(models.Model):
    """One upload or scheduled import of a resource's records (whole or nothing)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="batches",
                                 verbose_name=_("资源"))
    file_name = models.CharField(_("文件名"), max_length=200)
    rows = models.PositiveIntegerField(_("记录数"), default=0)
    # SHA-256 of the file as read: a scheduled import skips a provider's export it has loaded.
    digest = models.CharField(_("文件摘要"), max_length=64, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"),
                                    null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")

    def __str__(self) -> str:
        return self.file_name


# --- supply–demand matching, grants and the exchange ----------------------------------------------

class RequestStatus(models.TextChoices):
    CHECKING = "checking", _("数据管理部门审核中")
    AT_PROVIDER = "at_provider", _("提供方答复中")
    GRANTED = "granted", _("已授权")
    REFUSED = "refused", _("不予共享")
    GAP = "gap", _("已列入需求清单")
    WITHDRAWN = "withdrawn", _("已撤回")


class DataRequest(models.Model):
    """供需对接: a using department's demand for data, answered on the working-day clock.

    The data bureau checks it within 2 working days; unconditional data is granted at once;
    conditional data goes to the provider, who answers within 5 working days (10 when the
    resource must first be published). A demand for data no resource provides becomes an entry
    of the gap list (:class:`DataGap`).
    """

    number = models.CharField(_("需求编号"), max_length=30, unique=True)
    requester = models.ForeignKey("organizations.Department", verbose_name=_("需求部门"),
                                  on_delete=models.PROTECT, related_name="data_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"),
                                     null=True, on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(Resource, verbose_name=_("所需资源"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="requests")
    field_keys = models.JSONField(_("所需信息项"), default=list, blank=True)
    wanted_elements = models.ManyToManyField(DataElement, verbose_name=_("所需数据元"),
                                             blank=True, related_name="+")
    description = models.TextField(_("需求说明"), blank=True)
    purpose = models.TextField(_("用途"))
    legal_basis = models.TextField(_("依据"))
    scenarios = models.TextField(_("应用场景"), blank=True)
    related_items = models.JSONField(_("关联服务事项"), default=list, blank=True)
    period_from = models.DateField(_("使用期限自"), null=True, blank=True)
    period_to = models.DateField(_("使用期限至"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=RequestStatus.choices,
                              default=RequestStatus.CHECKING)
    stage_started_at = models.DateTimeField(_("本环节开始"), null=True, blank=True)
    stage_due_at = models.DateTimeField(_("本环节期限"), null=True, blank=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    decision_reason = models.TextField(_("答复意见"), blank=True)
    refusal_basis = models.TextField(_("不予共享依据"), blank=True)
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("共享需求")
        verbose_name_plural = _("共享需求")
        indexes = [models.Index(fields=["status", "stage_due_at"], name="data_request_due"),
                   models.Index(fields=["requester", "created_at"],
                                name="data_request_requester")]

    def __str__(self) -> str:
        return self.number


class DataRequestEvent(models.Model):
    """The append-only history of a demand (who did what, when, why)."""

    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=30)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)
    reason = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["request", "at", "id"]
        verbose_name = _("需求办理记录")
        verbose_name_plural = _("需求办理记录")

    def __str__(self) -> str:
        return f"{self.request_id} {self.action}"


class DataGap(models.Model):
    """需求清单 → 责任清单: data no resource provides, with the department made responsible."""

    request = models.OneToOneField(DataRequest, on_delete=models.PROTECT, related_name="gap")
    responsible = models.ForeignKey("organizations.Department", verbose_name=_("责任部门"),
                                    null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="data_gaps")
    note = models.TextField(_("说明"), blank=True)
    resolved_by = models.ForeignKey(Resource, verbose_name=_("已由资源满足"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("列入时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("数据需求清单")
        verbose_name_plural = _("数据需求清单")

    def __str__(self) -> str:
        return str(self.request_id)


class Grant(models.Model):
    """An approved use of a resource's data items by a consumer department, for a purpose."""

    request = models.OneToOneField(DataRequest, on_delete=models.PROTECT, related_name="grant")
    consumer = models.ForeignKey("organizations.Department", verbose_name=_("使用部门"),
                                 on_delete=models.PROTECT, related_name="data_grants")
    resource = models.ForeignKey(Resource, verbose_name=_("资源"), on_delete=models.PROTECT,
                                 related_name="grants")
    field_keys = models.JSONField(_("授权信息项"), default=list)
    masked_keys = models.JSONField(_("脱敏信息项"), default=list, blank=True)
    purpose = models.TextField(_("用途"))
    valid_from = models.DateField(_("有效期自"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    calls_per_minute = models.PositiveIntegerField(_("每分钟调用上限"), default=60)
    granted_at = models.DateTimeField(_("授权时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.TextField(_("撤销原因"), blank=True)

    class Meta:
        ordering = ["-granted_at"]
        verbose_name = _("共享授权")
        verbose_name_plural = _("共享授权")

    def __str__(self) -> str:
        return f"{self.consumer_id} → {self.resource_id}"


class Credential(models.Model):
    """An exchange key of a grant: shown once, stored as its SHA-256 digest only."""

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="credentials",
                              verbose_name=_("共享授权"))
    prefix = models.CharField(_("密钥前缀"), max_length=12)
    digest = models.CharField(_("摘要"), max_length=64, unique=True)
    issued_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("领取人"), null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("到期时间"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("交换密钥")
        verbose_name_plural = _("交换密钥")

    def __str__(self) -> str:
        return self.prefix


class ExchangeUse(models.Model):
    """One exchange call answered: who read which items of whom, for what and which case.

    The same facts are in the audit chain (``exchange.read``); this row is how the provider sees
    the use of its data and how a citizen or company finds, under their account, every read of
    their data (by the keyed index of the subject, never the ID number itself).
    """

    at = models.DateTimeField(_("时间"))
    # A read through a grant names the grant and its resource; a use of an e-licence its holder
    # authorised (授权用证, ``tongban.licences``) names the licence instead.
    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="uses",
                              verbose_name=_("共享授权"), null=True, blank=True)
    consumer = models.ForeignKey("organizations.Department", verbose_name=_("使用部门"),
                                 on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey("organizations.Department", verbose_name=_("提供部门"),
                                 on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(Resource, verbose_name=_("资源"), on_delete=models.PROTECT,
                                 related_name="uses", null=True, blank=True)
    licence_identifier = models.CharField(_("电子证照标识"), max_length=100, blank=True)
    licence_name = models.CharField(_("电子证照名称"), max_length=100, blank=True)
    purpose = models.CharField(_("用途"), max_length=200, blank=True)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("调用人"), null=True,
                               blank=True, on_delete=models.PROTECT, related_name="+")
    field_keys = models.JSONField(_("读取信息项"), default=list)
    # ``core.crypto.blind_index`` of the ID number or USCC asked for; the number itself is not
    # kept (a look-up by the subject matches every configured index key).
    subject_index = models.CharField(_("主体标识索引"), max_length=80)
    case_number = models.CharField(_("办件编号"), max_length=40, blank=True)
    found = models.BooleanField(_("查得"), default=True)
    audit_seq = models.BigIntegerField(_("审计记录序号"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("数据使用记录")
        verbose_name_plural = _("数据使用记录")
        constraints = [models.CheckConstraint(
            condition=(models.Q(grant__isnull=False, resource__isnull=False)
                       | ~models.Q(licence_identifier="")),
            name="exchange_use_grant_or_licence")]
        indexes = [models.Index(fields=["subject_index", "at"], name="exchange_use_subject"),
                   models.Index(fields=["provider", "at"], name="exchange_use_provider"),
                   models.Index(fields=["consumer", "at"], name="exchange_use_consumer")]

    def __str__(self) -> str:
        return f"{self.resource_id or self.licence_identifier} {self.at:%Y-%m-%d %H:%M}"

    @property
    def use_purpose(self) -> str:
        """What the data was used for: the licence authorisation's purpose, or the grant's."""
        return self.purpose or (self.grant.purpose if self.grant is not None else "")
