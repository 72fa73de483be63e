"""The data layer's API: ``/api/v1/data-elements``, ``/api/v1/code-lists``,
``/api/v1/data-resources``, ``/api/v1/data-requests`` and the exchange ``/api/v1/exchange/…``."""

from .elements import router as elements_router
from .resources import router as resources_router
from .sharing import router as sharing_router

routers = [elements_router, resources_router, sharing_router]
