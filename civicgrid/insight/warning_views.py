"""Pages of the command centre: warning (filled in by its topic)."""

urlpatterns: list = []
