"""Pages of the command centre: opinion (filled in by its topic)."""

urlpatterns: list = []
