from django.urls import path

from . import views

app_name = "ratings"

urlpatterns = [
    path("case/<str:ref>/", views.rate_case, name="rate_case"),
    path("window/", views.window_page, name="window"),
    path("visit/<str:token>/", views.rate_visit, name="rate_visit"),
    path("tickets/", views.tickets, name="tickets"),
    path("tickets/<int:ticket_id>/", views.ticket_page, name="ticket"),
    path("appeals/", views.appeals, name="appeals"),
    path("report/", views.report_index, name="report_index"),
    path("report/<int:year>-<int:month>/", views.report, name="report"),
    path("report/<int:year>-<int:month>.csv", views.report_csv, name="report_csv"),
    path("report/<int:year>-<int:month>.json", views.report_json, name="report_json"),
]
