"""Case pages."""

from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("<str:number>/notices/<str:notice_number>/", views.notice_detail, name="notice"),
]
