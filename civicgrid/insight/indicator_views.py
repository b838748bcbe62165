"""Pages of the command centre: indicator (filled in by its topic)."""

urlpatterns: list = []
