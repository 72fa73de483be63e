from django.urls import URLPattern

from .views import elements, resource_drafts, resources, sharing

app_name = "exchange"
# The draft form's paths come before ``resources/<code>/`` (the public detail page).
urlpatterns: list[URLPattern] = [*elements.urlpatterns, *resource_drafts.urlpatterns,
                                 *resources.urlpatterns, *sharing.urlpatterns]
