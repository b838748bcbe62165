"""Pages of the command centre: screen (filled in by its topic)."""

urlpatterns: list = []
