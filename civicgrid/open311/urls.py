"""GeoReport v2 at /open311/v2/: every resource in .xml and .json (the format is the suffix)."""

from django.urls import path, re_path

from civicgrid.open311 import views

_FMT = r"\.(?P<fmt>[A-Za-z0-9]{1,8})$"

urlpatterns = [
    re_path(r"^discovery" + _FMT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + _FMT, views.service_list, name="open311-services"),
    re_path(r"^services/(?P<code>[^/]{1,32})" + _FMT, views.service_definition, name="open311-service"),
    re_path(r"^requests" + _FMT, views.requests, name="open311-requests"),
    re_path(r"^requests/(?P<number>[^/]{1,40})" + _FMT, views.request_detail, name="open311-request"),
    re_path(r"^tokens/(?P<token>[^/]{1,64})" + _FMT, views.token_detail, name="open311-token"),
    path("media/<str:number>/<int:attachment_id>", views.request_media, name="open311-media"),
]
