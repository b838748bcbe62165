"""Pages of the command centre: review (filled in by its topic)."""

urlpatterns: list = []
