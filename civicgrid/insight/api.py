"""/api/v1/insight: the command centre's figures for dashboards and outside tools. Each topic has
its own router (big screen, indicators, warnings, opinion, reviews); tokens need ``insight:read``."""

from ninja import Router

from civicgrid.insight import indicator_api, opinion_api, review_api, screen_api, warning_api

insight_router = Router()
insight_router.add_router("/screen", screen_api.router)
insight_router.add_router("/indicators", indicator_api.router)
insight_router.add_router("/warnings", warning_api.router)
insight_router.add_router("/opinion", opinion_api.router)
insight_router.add_router("/reviews", review_api.router)
