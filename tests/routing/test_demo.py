"""The routing demo: the matters are made once, each at the tier its story ends at."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import Case, CaseState, Tier
from civicgrid.routing import demo

pytestmark = pytest.mark.usefixtures("cases_demo")


def test_the_demo_routes_its_matters_once():
    assert demo.seed(progress=lambda line: None) == len(demo.MATTERS)
    found = {c.idempotency_key: c for c in Case.objects.filter(idempotency_key__startswith="demo-routing-")}
    assert (found["demo-routing-01"].state, found["demo-routing-01"].tier) == (
        CaseState.CLOSED,
        Tier.BUILDING,
    )
    assert (found["demo-routing-02"].state, found["demo-routing-02"].tier) == (
        CaseState.CHECKING,
        Tier.ESTATE,
    )
    assert found["demo-routing-03"].tier == Tier.ESTATE
    assert (found["demo-routing-04"].state, found["demo-routing-04"].tier) == (
        CaseState.REPORTED,
        Tier.STREET,
    )
    assert (found["demo-routing-06"].state, found["demo-routing-06"].tier) == (
        CaseState.HANDLING,
        Tier.BUILDING,
    )
    versions = {c.pk: c.version for c in found.values()}
    assert demo.seed(progress=lambda line: None) == 0
    assert {c.pk: c.version for c in Case.objects.filter(pk__in=versions)} == versions
