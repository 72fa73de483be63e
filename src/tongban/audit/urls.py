from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.record_list, name="records"),
    path("records/<int:seq>/", views.record_detail, name="record"),
    path("verify/", views.verify_now, name="verify"),
    path("verifications/<int:pk>/", views.verification_detail, name="verification"),
    path("key/", views.public_key, name="public_key"),
]
