from django.urls import path

from . import views

app_name = "inspections"
urlpatterns = [
    path("", views.public_index, name="public"),
    path("<int:pk>/", views.public_task, name="public_task"),
    path("<int:pk>/verify/", views.public_verify, name="verify"),
    path("<int:pk>/pools.json", views.public_pools, name="pools"),
    path("staff/", views.staff_index, name="staff"),
    path("staff/import/", views.staff_import, name="import"),
    path("staff/template.xlsx", views.staff_template, name="template"),
    path("staff/tasks/new/", views.staff_task_new, name="task_new"),
    path("staff/tasks/<int:pk>/", views.staff_task, name="staff_task"),
    path("staff/tasks/<int:pk>/action/", views.staff_task_action, name="task_action"),
    path("staff/tasks/<int:pk>/entities/<int:drawn_pk>/result/", views.staff_result, name="result"),
]
