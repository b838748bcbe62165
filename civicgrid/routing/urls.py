from django.urls import path

from civicgrid.routing import views

urlpatterns = [
    path("", views.tier_list, name="routing-list"),
    path("cases/<str:number>/<str:action>", views.tier_move, name="routing-move"),
]
