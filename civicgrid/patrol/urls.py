from django.urls import path

from civicgrid.patrol import assessment_views, views

# Mounted under /patrol/ (civicgrid/urls.py) with the namespace "patrol".
app_name = "patrol"
urlpatterns = [
    path("", views.patrol_list, name="list"),
    path("coverage/", views.coverage_week, name="coverage"),
    path("<int:patrol_id>/", views.patrol_detail, name="detail"),
    *assessment_views.urlpatterns,  # assessment/ and assessment/export/
]
