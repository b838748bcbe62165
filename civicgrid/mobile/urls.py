from django.urls import path

from civicgrid.mobile import views

app_name = "mobile"
urlpatterns = [
    path("", views.home, name="home"),
    path("todo/", views.todo, name="todo"),
    path("case/", views.case, name="case"),
    path("report/", views.report, name="report"),
    path("resolve/", views.resolve, name="resolve"),
    path("patrol/", views.patrol, name="patrol"),
    path("inspect/", views.inspect, name="inspect"),
    path("history/", views.history, name="history"),
    path("outbox/", views.outbox, name="outbox"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
    path("icons/<str:name>.png", views.icon, name="icon"),
]
