"""Admin glue shared by the apps.

Every write made through the admin is audited, whatever the path: the add and change forms,
single and bulk deletes, actions and any extra view an admin adds. The admin site
(:class:`AuditedAdminSite`, the project's default site) gives every registered ``ModelAdmin``
the :class:`AuditedAdmin` base, whose URLs run each non-safe request in one transaction while
watching the statements it sends: when the request changed a table and wrote no audit record
itself (the services an admin calls write their own), one record per object the admin logged
(``admin.added`` / ``admin.changed`` / ``admin.deleted``), or one ``admin.write`` record naming
the view, is appended before the transaction commits. Opening the change form of a record
holding encrypted personal data (ID numbers, phones, application forms) is a staff read of that
data, audited as ``admin.personal_data_viewed``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection, models, transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern

# Tables whose writes are bookkeeping of the request itself, not a change of the platform's data.
_BOOKKEEPING_TABLES = {"django_admin_log", "django_session"}
_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+["`]?(\w+)', re.IGNORECASE)
# The admin log's flags (django.contrib.admin.models ADDITION, CHANGE, DELETION).
_LOGGED = {1: "admin.added", 2: "admin.changed", 3: "admin.deleted"}

_ModelT = TypeVar("_ModelT", bound=models.Model)


class _WriteWatch:
    """An ``execute_wrapper`` noting whether data tables were written and the audit log was."""

    def __init__(self) -> None:
        from tongban.audit.models import AuditRecord

        self.audit_table = AuditRecord._meta.db_table
        self.wrote = False
        self.audited = False

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool,
                 context: dict[str, Any]) -> Any:
        match = _WRITE.match(sql)
        if match is not None:
            table = match.group(1)
            if table == self.audit_table:
                self.audited = True
            elif table not in _BOOKKEEPING_TABLES:
                self.wrote = True
        return execute(sql, params, many, context)


def audited_view(model_admin: admin.ModelAdmin[Any], view: Callable[..., HttpResponse]
                 ) -> Callable[..., HttpResponse]:
    """``view`` with its writes audited (see the module docstring)."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            response = view(request, *args, **kwargs)
            match = request.resolver_match
            if (request.method == "GET" and response.status_code == 200 and match is not None
                    and str(match.url_name).endswith("_change")
                    and _holds_personal_data(model_admin)):
                # The change form shows the person's full ID number and phone: a staff read of
                # personal data, audited like every other (the lists show them masked).
                _audit_read(model_admin, request, kwargs["object_id"])
            return response
        from django.contrib.admin.models import LogEntry

        watch = _WriteWatch()
        with transaction.atomic():
            logged_before = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
            with connection.execute_wrapper(watch):
                response = view(request, *args, **kwargs)
            if watch.wrote and not watch.audited:
                _audit(model_admin, request, logged_before or 0, kwargs)
        return response

    update_wrapper(wrapper, view)
    wrapper.audited = True  # type: ignore[attr-defined]
    return wrapper


def _audit(model_admin: admin.ModelAdmin[Any], request: HttpRequest, logged_before: int,
           kwargs: dict[str, Any]) -> None:
    from django.contrib.admin.models import LogEntry

    from tongban.audit.services import audit_record

    object_type = str(model_admin.opts.model_name)
    entries = list(LogEntry.objects.filter(pk__gt=logged_before, user_id=request.user.pk or 0)
                   .order_by("pk"))
    for entry in entries:
        audit_record(actor=request.user, action=_LOGGED.get(entry.action_flag, "admin.write"),
                     object_type=object_type, object_id=entry.object_id or "",
                     detail={"model": model_admin.opts.label, "object": entry.object_repr,
                             "change": entry.get_change_message()})
    if not entries:
        audit_record(actor=request.user, action="admin.write", object_type=object_type,
                     object_id=kwargs.get("object_id", ""),
                     detail={"model": model_admin.opts.label, "path": request.path,
                             "action": request.POST.get("action", ""),
                             "selected": request.POST.getlist(ACTION_CHECKBOX_NAME)})


def _holds_personal_data(model_admin: admin.ModelAdmin[Any]) -> bool:
    from tongban.core.encrypted import EncryptedJSONField, EncryptedTextField

    return any(isinstance(f, EncryptedTextField | EncryptedJSONField)
               for f in model_admin.opts.get_fields())


def _audit_read(model_admin: admin.ModelAdmin[Any], request: HttpRequest, object_id: str) -> None:
    from tongban.audit.services import audit_record

    with transaction.atomic():
        audit_record(actor=request.user, action="admin.personal_data_viewed",
                     object_type=str(model_admin.opts.model_name), object_id=str(object_id),
                     detail={"model": model_admin.opts.label, "path": request.path})


class AuditedAdmin(admin.ModelAdmin[_ModelT]):
    """The base of every registered admin (the site adds it): each URL's writes are audited."""

    def get_urls(self) -> list[Any]:
        return [URLPattern(p.pattern, audited_view(self, p.callback), p.default_args, p.name)
                if isinstance(p, URLPattern) else p for p in super().get_urls()]


class AuditedAdminSite(admin.AdminSite):
    """The default admin site: every admin registered with it is an :class:`AuditedAdmin`, and
    its own write (changing one's password) is audited too."""

    def password_change(self, request: HttpRequest,
                        extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return super().password_change(request, extra_context)
        from tongban.audit.services import audit_record

        watch = _WriteWatch()
        with transaction.atomic():
            with connection.execute_wrapper(watch):
                response = super().password_change(request, extra_context)
            if watch.wrote and not watch.audited:
                audit_record(actor=request.user, action="admin.password_changed",
                             object_type="user", object_id=request.user.pk, detail={})
        return response

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdmin):
            admin_class = type(admin_class.__name__, (AuditedAdmin, admin_class),
                               {"__module__": admin_class.__module__,
                                "__qualname__": admin_class.__qualname__})
        super().register(model_or_iterable, admin_class, **options)


class ReadOnlyAdmin(AuditedAdmin[_ModelT]):
    """Rows that change only through their services (which check, audit and keep them
    consistent) or never (append-only logs): the admin shows them and nothing more."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
