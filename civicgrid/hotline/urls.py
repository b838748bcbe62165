from django.urls import path

from civicgrid.hotline import views

urlpatterns = [
    path("", views.home, name="hotline-home"),
    path("batches/<int:batch_id>/", views.batch_detail, name="hotline-batch"),
    path("batches/<int:batch_id>/progress", views.batch_progress, name="hotline-batch-progress"),
    path("batches/<int:batch_id>/report.xlsx", views.batch_report, name="hotline-batch-report"),
    path("batches/<int:batch_id>/resume", views.batch_resume, name="hotline-batch-resume"),
    path("export", views.export, name="hotline-export"),
    path("triage/", views.triage, name="hotline-triage"),
    path("triage/<int:order_id>/place", views.triage_place, name="hotline-triage-place"),
    path("triage/<int:order_id>/reject", views.triage_reject, name="hotline-triage-reject"),
]
