from civicgrid.insight import indicator_views, opinion_views, review_views, screen_views, warning_views

# Mounted under /command/ (civicgrid/urls.py) with the namespace "insight". Each topic lists its
# own pages: the big screen (screen_views), indicators and the "网格+" index, warnings and
# hotspots, opinion monitoring, and the reviews.
app_name = "insight"
urlpatterns = [
    *screen_views.urlpatterns,
    *indicator_views.urlpatterns,
    *warning_views.urlpatterns,
    *opinion_views.urlpatterns,
    *review_views.urlpatterns,
]
