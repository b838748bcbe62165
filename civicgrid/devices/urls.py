from django.urls import path

from civicgrid.devices import views

urlpatterns = [
    # The webhook devices post to (no trailing slash: firmware often cannot follow a redirect).
    path("alarms", views.alarm_webhook, name="device-alarms"),
    path("", views.device_list, name="device-list"),
    path("new/", views.device_new, name="device-new"),
    path("<str:external_id>/", views.device_detail, name="device-detail"),
    path("<str:external_id>/edit/", views.device_edit, name="device-edit"),
    path("<str:external_id>/rotate", views.device_rotate, name="device-rotate"),
]
