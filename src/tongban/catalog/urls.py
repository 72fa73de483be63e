"""Catalog pages. Public pages need no login; bureau pages are for catalog staff."""

from django.urls import path

from .views import bureau, bureau_items, public, quality

app_name = "catalog"
urlpatterns = [
    # --- public (no login) ---
    path("", public.home, name="home"),
    path("lists/", public.lists_overview, name="lists"),
    path("lists/<slug:commitment>/", public.commitment_list, name="list"),
    path("items/", public.item_list, name="items"),
    path("search/", public.search, name="search"),
    path("topics/", public.topics, name="topics"),
    path("topics/events/<slug:slug>/", public.life_event, name="life_event"),
    path("power-list/", public.power_list, name="power_list"),
    path("departments/", public.department_index, name="departments"),
    path("departments/<str:uscc>/", public.department_detail, name="department"),
    path("items/<str:code>/", public.item_guide, name="item"),
    path("items/<str:code>/versions/", public.item_history, name="item_history"),
    path("items/<str:code>/versions/<int:number>/", public.item_version, name="item_version"),
    # --- bureau: workbook upload ---
    path("bureau/catalog/import/", bureau.catalog_import, name="import"),
    # --- bureau: editing, review, versions ---
    path("bureau/items/", bureau_items.item_list, name="bureau_items"),
    path("bureau/items/new/", bureau_items.item_edit, name="bureau_item_new"),
    path("bureau/items/<str:code>/edit/", bureau_items.item_edit, name="bureau_item_edit"),
    path("bureau/items/<str:code>/submit/", bureau_items.item_submit, name="bureau_item_submit"),
    path("bureau/items/<str:code>/review/", bureau_items.item_review, name="bureau_item_review"),
    path("bureau/items/<str:code>/cancel/", bureau_items.item_cancel, name="bureau_item_cancel"),
    path("bureau/items/<str:code>/history/", bureau_items.item_history, name="bureau_item_history"),
    path("bureau/items/<str:code>/diff/", bureau_items.item_diff, name="bureau_item_diff"),
    path("bureau/review/", bureau_items.review_queue, name="bureau_review_queue"),
    # --- quality report ---
    path("quality/", quality.quality_report, name="quality"),
]
