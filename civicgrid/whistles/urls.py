from django.urls import path

from civicgrid.whistles import views

# Mounted under /whistles/ (civicgrid/urls.py). "new" and "figures" come before <number>.
urlpatterns = [
    path("", views.whistle_list, name="whistle-list"),
    path("new/", views.whistle_new, name="whistle-new"),
    path("figures/", views.whistle_figures, name="whistle-figures"),
    path("<str:number>/", views.whistle_detail, name="whistle-detail"),
    path("<str:number>/report-in", views.whistle_report_in, name="whistle-report-in"),
    path("<str:number>/meetings", views.whistle_meeting, name="whistle-meeting"),
    path("<str:number>/close", views.whistle_close, name="whistle-close"),
]
