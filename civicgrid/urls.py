from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from civicgrid import views
from civicgrid.accounts import totp_views
from civicgrid.api import api
from civicgrid.regions import views as region_views

admin.site.site_header = "CivicGrid 网格化社会治理平台"
admin.site.site_title = "CivicGrid"

urlpatterns = [
    path("", views.home, name="home"),
    path("map/", region_views.grid_map, name="map"),
    path("map/grids.geojson", region_views.grid_map_data, name="map-data"),
    path("grids/<str:code>/", region_views.grid_page, name="grid"),
    path(
        "admin/regions/generations/<int:generation_id>/problems/",
        region_views.generation_problems,
        name="generation-problems",
    ),
    path("admin/regions/import/", region_views.generation_upload, name="generation-upload"),
    path("accounts/login/", totp_views.TwoStepLoginView.as_view(), name="login"),
    path("accounts/login/totp/", totp_views.login_totp, name="login-totp"),
    path("accounts/totp/setup/", totp_views.totp_setup, name="totp-setup"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The admin's own login would log in on the password alone, skipping the second factor,
    # so its URL (reverse("admin:login") included) goes to ours; ?next= comes along.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("open311/v2/", include("civicgrid.open311.urls")),
    path("hotline/", include("civicgrid.hotline.urls")),
    path("devices/", include("civicgrid.devices.urls")),
    path("whistles/", include("civicgrid.whistles.urls")),
    path("routing/", include("civicgrid.routing.urls")),
    path("m/", include("civicgrid.mobile.urls")),
    path("patrol/", include("civicgrid.patrol.urls")),
    path("enforcement/", include("civicgrid.enforcement.urls")),
    path("command/", include("civicgrid.insight.urls")),
    path("", include("civicgrid.cases.urls")),
]

handler404 = "civicgrid.views.not_found"
handler500 = "civicgrid.views.server_error"
