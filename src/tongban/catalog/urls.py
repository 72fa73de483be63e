"""Catalog pages. Public pages need no login; bureau pages are for catalog staff."""

from django.urls import path

from .views import public

app_name = "catalog"
urlpatterns = [
    # --- public (no login) ---
    path("", public.home, name="home"),
    # --- bureau: workbook upload ---
    # --- bureau: editing, review, versions ---
    # --- quality report ---
]
