"""/api/v1/insight/ — indicator (filled in by its topic)."""

from ninja import Router

router = Router(tags=["insight"])
