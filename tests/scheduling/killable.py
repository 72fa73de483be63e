"""A notification task for ``test_stale_tasks``: while the file ``hold`` exists in its gate
directory it says so (``started``) and blocks until its process is killed."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from django_tasks import task

KEY = "killable:greeting"


@task()
def notify_when_released(user_id: int, gate: str) -> int:
    folder = Path(gate)
    if (folder / "hold").exists():
        (folder / "started").write_text(str(os.getpid()))
        threading.Event().wait()  # never set: the worker is killed here, mid-task
    from tongban.accounts.models import User
    from tongban.cases.notifications.services import notify_users

    return notify_users(User.objects.filter(pk=user_id), key=KEY, subject="办件提醒",
                        text="您的办件有新进展")
