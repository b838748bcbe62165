"""/api/v1/insight/ — warning (filled in by its topic)."""

from ninja import Router

router = Router(tags=["insight"])
