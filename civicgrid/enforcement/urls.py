from django.urls import path

from civicgrid.enforcement import views

app_name = "enforcement"
# Mounted under /enforcement/ (civicgrid/urls.py); the phone screens use the API instead.
urlpatterns = [
    path("", views.item_list, name="item-list"),
    path("items/<str:code>/", views.item_detail, name="item-detail"),
    path("export.xlsx", views.item_export, name="item-export"),
    path("import/", views.import_page, name="import"),
    path("import/errors.xlsx", views.import_errors, name="import-errors"),
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/<int:task_id>/cancel", views.task_cancel, name="task-cancel"),
    path("inspections/", views.inspection_list, name="inspection-list"),
    path("inspections/<int:inspection_id>/", views.inspection_detail, name="inspection-detail"),
    path("inspections/<int:inspection_id>/cases", views.inspection_case, name="inspection-case"),
    path(
        "inspections/<int:inspection_id>/photos/<int:photo_id>",
        views.inspection_photo,
        name="inspection-photo",
    ),
]
