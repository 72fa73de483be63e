from django.urls import path

from . import views

app_name = "queues"
urlpatterns = [
    path("", views.hall_index, name="index"),
    path("<int:hall_id>/take/", views.take, name="take"),
    path("<int:hall_id>/display/", views.display, name="display"),
    path("<int:hall_id>/display/board/", views.display_board, name="display_board"),
    path("<int:hall_id>/figures/", views.figures, name="figures"),
    path("ticket/<uuid:token>/", views.ticket, name="ticket"),
    path("ticket/<uuid:token>/status/", views.ticket_status, name="ticket_status"),
    path("ticket/<uuid:token>/cancel/", views.ticket_cancel, name="ticket_cancel"),
    path("window/", views.window_page, name="window"),
]
