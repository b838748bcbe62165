"""/api/v1/insight/ — opinion (filled in by its topic)."""

from ninja import Router

router = Router(tags=["insight"])
