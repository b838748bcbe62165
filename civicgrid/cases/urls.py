from django.urls import path

from civicgrid.cases import files

urlpatterns = [
    path("cases/<str:number>/files/<int:attachment_id>", files.case_file, name="case-file"),
    path("track/<str:code>/files/<int:attachment_id>", files.case_track_file, name="case-track-file"),
]
