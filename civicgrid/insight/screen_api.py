"""/api/v1/insight/ — screen (filled in by its topic)."""

from ninja import Router

router = Router(tags=["insight"])
