from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Framework glue only: access declarations, error shapes, health check, site context."""

    name = "tongban.core"
    label = "core"

    def ready(self) -> None:
        from . import connections

        connections.connect()
