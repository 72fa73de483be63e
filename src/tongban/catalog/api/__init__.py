"""Catalog API: public reads (``public.py``) and the bureau's writes (``bureau.py``)."""

from ninja import Router

from .bureau import router as bureau_router
from .public import router as public_router

router = Router()
router.add_router("/", public_router)
router.add_router("/", bureau_router)
