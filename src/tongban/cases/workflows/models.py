"""Workflow definitions (versioned data) and the step tasks of running cases (the inbox)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import Commitment, Item
from tongban.core.choices import ChoiceIs
from tongban.organizations.models import Department


class WorkflowDefinition(models.Model):
    """One version of the steps of an item (``item`` set) or the default of a list.

    Saved versions never change: an edit saves a new version, and a case keeps the version it
    started under.
    """

    item = models.ForeignKey(Item, verbose_name=_("事项"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="workflows")
    commitment = models.CharField(_("默认适用的承诺类别"), max_length=16, blank=True,
                                  choices=Commitment.choices)
    version = models.PositiveIntegerField(_("版本号"))
    name = models.CharField(_("流程名称"), max_length=100)
    definition = models.JSONField(_("环节定义"))
    is_active = models.BooleanField(_("现行版本"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["item", "commitment", "-version"]
        verbose_name = _("办理流程")
        verbose_name_plural = _("办理流程")
        constraints = [
            models.UniqueConstraint(fields=["item", "commitment", "version"],
                                    name="workflow_version_unique"),
            models.CheckConstraint(
                condition=(models.Q(item__isnull=False, commitment="")
                           | models.Q(item__isnull=True) & ~models.Q(commitment="")),
                name="workflow_for_item_or_list"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待办")
    DONE = "done", _("已办")
    CANCELLED = "cancelled", _("已撤销")


class StepTask(models.Model):
    """A step of a running case waiting for (or done by) a department, role and person."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="tasks")
    step_key = models.CharField(_("环节"), max_length=50)
    name = models.CharField(_("环节名称"), max_length=100)
    # The department's and the assignee's look-ups use the composite indexes below (which
    # begin with them); their own single-column indexes would be written at every step.
    department = models.ForeignKey(Department, verbose_name=_("办理部门"), on_delete=models.PROTECT,
                                   related_name="tasks", db_index=False)
    role = models.CharField(_("办理角色"), max_length=20)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("办理人"), null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="tasks",
                                 db_index=False)
    status = models.CharField(_("状态"), max_length=16, choices=TaskStatus.choices,
                              default=TaskStatus.OPEN)
    opened_at = models.DateTimeField(_("开始时间"))
    due_at = models.DateTimeField(_("环节到期"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    outcome = models.CharField(_("办理结果"), max_length=20, blank=True)
    finished_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    deadline_state = models.CharField(_("时限状态"), max_length=8, default="green")
    late = models.BooleanField(_("超过环节时限"), default=False)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("环节任务")
        verbose_name_plural = _("环节任务")
        indexes = [
            models.Index(fields=["department", "role", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["status", "due_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.step_key}"

    @property
    def status_is(self) -> ChoiceIs:
        """``task.status_is.done`` in templates (``core.choices``)."""
        return ChoiceIs(self.status, TaskStatus)
