from django.urls import path

from . import views

app_name = "decisions"
urlpatterns = [
    path("rule-sets/", views.rule_set_list, name="rule_sets"),
    path("rule-sets/import/", views.rule_set_import, name="rule_set_import"),
    path("rule-sets/<int:pk>/export.json", views.rule_set_export, name="rule_set_export"),
    path("rule-sets/<int:pk>/publish/", views.rule_set_publish, name="rule_set_publish"),
    path("rule-sets/<int:pk>/retire/", views.rule_set_retire, name="rule_set_retire"),
    path("figures/", views.figures, name="figures"),
    path("cases/<str:number>/human-review/", views.human_review, name="human_review"),
]
