from django.urls import URLPattern

from .views import elements, resources, sharing

app_name = "exchange"
urlpatterns: list[URLPattern] = [*elements.urlpatterns, *resources.urlpatterns,
                                 *sharing.urlpatterns]
