"""A large batch is built by forked worker processes while the main process writes: the rows
written must be those of the sequential path (committed data: forking needs no open transaction)."""

from __future__ import annotations

import pytest

from civicgrid.accounts.models import User
from civicgrid.cases.models import Case, CaseEvent, Channel
from civicgrid.hotline import pipeline, services
from civicgrid.hotline.models import BatchStatus, HotlineBatchLine, HotlineOrder, OrderState
from tests.conftest import load_demo
from tests.hotline.conftest import as_json, order


@pytest.fixture
def committed_demo(transactional_db, demo_divisions, monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    yield from load_demo(demo_divisions, monkeypatch, people=True)


def test_forked_builders_write_what_the_sequential_path_writes(committed_demo, monkeypatch, settings):
    settings.HOTLINE_IMPORT_WORKERS = 2
    monkeypatch.setattr(pipeline, "CHUNK", 4)
    assert pipeline.worker_count(30) == 2
    rows = [order(f"PP{i:02d}") for i in range(24)]
    rows += [order("PQ1", lon="", lat="", address="不详"), order(""), order("PP03", content="同号")]
    user = User.objects.get(username="operator")
    batch = services.batch_receive(user=user, name="p.json", data=as_json(rows))
    batch = services.batch_run(batch_id=batch.pk)
    assert batch.status == BatchStatus.DONE and batch.done == 27
    assert batch.counts() == {"created": 24, "updated": 0, "unchanged": 0, "triaged": 1, "rejected": 2}
    cases = Case.objects.filter(channel=Channel.HOTLINE)
    assert cases.count() == 24 and CaseEvent.objects.filter(case__in=cases).count() == 24
    placed = HotlineOrder.objects.filter(state=OrderState.PLACED)
    assert sorted(placed.values_list("case__idempotency_key", flat=True)) == [
        f"hotline:PP{i:02d}" for i in range(24)
    ]
    assert HotlineBatchLine.objects.filter(batch=batch).count() == 27
    assert HotlineBatchLine.objects.get(batch=batch, row=27).code == "duplicate_in_batch"
    again = services.batch_run(
        batch_id=services.batch_receive(user=user, name="p.json", data=as_json(rows), again=True).pk
    )
    assert again.counts()["unchanged"] == 25 and Case.objects.filter(channel=Channel.HOTLINE).count() == 24
