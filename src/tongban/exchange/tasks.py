"""Background work of the data layer.

``import_records_from`` is the scheduled import of a provider's export: a bureau administrator
adds a schedule (admin → 定时任务: task ``tongban.exchange.tasks.import_records_from``, arguments
``{"resource_code": "LZ-GA-0001", "path": "/srv/exchange/gongan/huji.csv"}``, daily at a time
or every N seconds) and ``tongban worker`` loads the file as the system actor whenever it changed
since the last batch. The file's place is shared storage both the provider's export job and the
workers can reach.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from django_tasks import task

from tongban.accounts.permissions import SYSTEM
from tongban.core.errors import RuleViolation

from .models import RecordBatch, Resource
from .services.sharing_records import records_import

logger = logging.getLogger(__name__)


@task()
def import_records_from(resource_code: str, path: str, upsert: bool = False) -> str:
    """Load ``path`` into the resource's held records unless the last batch was this very file.

    Returns what happened (``imported``, ``unchanged``, ``refused``, ``missing``); a refused file
    changes nothing and each fault is logged (row and column), as the command prints them.
    """
    resource = Resource.objects.filter(code=resource_code).first()
    source = Path(path)
    if resource is None or not source.is_file():
        logger.error("scheduled records import: %s or %s not found", resource_code, path)
        return "missing"
    content = source.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    last = RecordBatch.objects.filter(resource=resource).order_by("-uploaded_at", "-pk").first()
    if last is not None and last.digest == digest:
        return "unchanged"
    try:
        records_import(actor=SYSTEM, resource=resource, content=content, file_name=source.name,
                       replace=not upsert)
    except RuleViolation as refused:
        for problem in refused.problems:
            logger.error("scheduled records import of %s refused: %s", resource_code, problem)
        return "refused"
    return "imported"
