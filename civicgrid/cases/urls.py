from django.urls import path

from civicgrid.cases import files, public_views, views

urlpatterns = [
    path("cases/<str:number>/files/<int:attachment_id>", files.case_file, name="case-file"),
    path("track/<str:code>/files/<int:attachment_id>", files.case_track_file, name="case-track-file"),
    # Staff pages. "list" and "new" come before <number>, which would otherwise take them.
    path("cases/", views.inbox, name="case-inbox"),
    path("cases/list/", views.case_list, name="case-list"),
    path("cases/list/export.xlsx", views.case_export, name="case-export"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<str:number>/", views.case_detail, name="case-detail"),
    path("cases/<str:number>/moves/<str:action>", views.case_move, name="case-move"),
    path("cases/<str:number>/reveal", views.case_reveal, name="case-reveal"),
    path("messages/", views.message_list, name="messages"),
    # The resident's pages (no login needed).
    path("report/", public_views.report, name="report"),
    path("track/", public_views.track, name="track"),
    path("track/<str:code>/", public_views.track_case, name="track-case"),
    path("track/<str:code>/rate", public_views.track_rate, name="track-rate"),
]
