"""/api/v1/insight/ — review (filled in by its topic)."""

from ninja import Router

router = Router(tags=["insight"])
