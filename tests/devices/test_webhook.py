"""The signed alarm webhook: one alarm → one case; a burst folds; every refusal is clear and kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Attachment, Case, CaseEvent, CaseState, Channel, Urgency
from civicgrid.devices.models import Alarm, AlarmOutcome, AlarmType, Device
from tests.cases.conftest import local, move
from tests.cases.steps import GRID_A, STREET_A, Frozen, error_of, jpeg, point_in

from .conftest import CAMERA, CAMERA_B, SECRET, alarm, b64, fire

NOW = local(2026, 11, 27, 10, 0)


@pytest.fixture
def clock(monkeypatch):
    return Frozen(monkeypatch, NOW)


def sensor_cases():
    return Case.objects.filter(channel=Channel.SENSOR)


def refusals(reason: str):
    return Alarm.objects.filter(outcome=AlarmOutcome.REFUSED, reason=reason)


def test_it_makes_one_case_from_a_signed_alarm(client, devices, clock):
    response = fire(client, alarm("illegal_parking", text="白色轿车", snapshot=b64(jpeg(gps=True))))

    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(number=body["case"])
    assert body["outcome"] == "created"
    assert sensor_cases().count() == 1
    assert case.channel == Channel.SENSOR
    assert case.case_class.code == "E0506"
    assert case.grid.code == GRID_A and case.grid_id == devices["a"].grid_id
    assert case.state == CaseState.VERIFYING  # a camera's report is checked on site like a resident's
    assert "白色轿车" in case.description and CAMERA in case.description
    photo = Attachment.objects.get(case=case)
    assert photo.content_type == "image/jpeg" and photo.gps_lon is not None
    stored = Alarm.objects.get(pk=body["alarm"])
    assert (stored.outcome, stored.case_id, stored.status) == (AlarmOutcome.CREATED, case.pk, 201)
    assert stored.snapshot_sha256 == photo.sha256
    assert Device.objects.get(pk=devices["a"].pk).last_seen == clock.at


def test_an_urgent_type_makes_an_urgent_case_at_the_alarms_own_place(client, devices, clock):
    lon, lat = point_in("32010200200102")
    response = fire(client, alarm("smoke", lon=lon, lat=lat))

    case = Case.objects.get(number=response.json()["case"])
    assert case.urgency == Urgency.URGENT and case.case_class.code == "E0404"
    assert case.grid.code == "32010200200102"  # where the alarm says, not where the device stands


def test_a_burst_of_twenty_makes_one_case_and_twenty_alarms(client, devices, clock):
    answers = []
    for i in range(20):
        clock.to(NOW + timedelta(seconds=20 * i))
        answers.append(fire(client, alarm("illegal_parking", snapshot=b64(jpeg((i * 10, 0, 0))))))

    assert [r.status_code for r in answers] == [201] + [200] * 19
    assert sensor_cases().count() == 1
    case = sensor_cases().get()
    assert {r.json()["case"] for r in answers} == {case.number}
    accepted = Alarm.objects.filter(case=case)
    assert accepted.count() == 20
    assert accepted.filter(outcome=AlarmOutcome.FOLDED).count() == 19
    # Less than note_minutes (10) passed: the burst left the timeline alone.
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == ["report"]


def test_a_long_burst_notes_the_timeline_at_most_every_ten_minutes_with_a_count(client, devices, clock):
    for minute in range(0, 26):  # one alarm a minute for 25 minutes (inside the 30-minute window)
        clock.to(NOW + timedelta(minutes=minute))
        assert fire(client, alarm("illegal_parking")).status_code in (200, 201)

    case = sensor_cases().get()
    notes = list(CaseEvent.objects.filter(case=case, action="note").order_by("seq"))
    assert len(notes) == 2  # at minutes 10 and 20
    # The timeline keeps the note as written, in the district's language (Chinese by default).
    assert "又发出 10 条" in notes[0].note and "共 11 条" in notes[0].note
    assert "又发出 10 条" in notes[1].note and "共 21 条" in notes[1].note
    assert Alarm.objects.filter(case=case, noted=True).count() == 3  # the first alarm and two notes


def test_a_note_carries_the_alarms_snapshot(client, devices, clock):
    fire(client, alarm())
    clock.to(NOW + timedelta(minutes=11))
    fire(client, alarm(snapshot=b64(jpeg((0, 200, 0)))))

    note = CaseEvent.objects.get(case=sensor_cases().get(), action="note")
    assert Attachment.objects.filter(event=note).count() == 1


def test_after_the_case_is_closed_a_new_alarm_makes_a_new_case(client, devices, clock):
    first = Case.objects.get(number=fire(client, alarm()).json()["case"])
    move(STREET_A, first, "void", note="车辆已驶离")  # void: no longer open

    clock.to(NOW + timedelta(minutes=1))
    response = fire(client, alarm())

    assert response.status_code == 201
    assert sensor_cases().count() == 2 and response.json()["case"] != first.number


def test_after_the_fold_window_a_new_alarm_makes_a_new_case(client, devices, clock):
    fire(client, alarm())
    clock.to(NOW + timedelta(minutes=31))
    assert fire(client, alarm()).status_code == 201
    assert sensor_cases().count() == 2


def test_other_types_and_other_devices_are_other_matters(client, devices, clock):
    fire(client, alarm("illegal_parking"))
    fire(client, alarm("street_vending"))
    fire(client, alarm("illegal_parking"), device=CAMERA_B)
    assert sensor_cases().count() == 3


def test_the_same_alarm_id_sent_again_is_answered_not_doubled(client, devices, clock):
    sent = alarm()
    first = fire(client, sent)
    clock.to(NOW + timedelta(seconds=5))  # a retry: new timestamp, so a new signature
    again = fire(client, sent)

    assert again.status_code == 200 and again.json()["case"] == first.json()["case"]
    assert again.json()["outcome"] == AlarmOutcome.REPEATED
    assert Alarm.objects.filter(outcome__in=["created", "folded"]).count() == 1
    assert sensor_cases().count() == 1


def test_a_replayed_signature_is_refused_and_recorded(client, devices, clock):
    sent = alarm()
    stamp = int(clock.at.timestamp())
    assert fire(client, sent, stamp=stamp).status_code == 201
    error_of(fire(client, sent, stamp=stamp), 409, "replayed")

    assert sensor_cases().count() == 1 and Alarm.objects.filter(outcome="created").count() == 1
    assert refusals("replayed").count() == 1
    assert AuditRecord.objects.filter(action="devices.alarm_refused", detail__reason="replayed").count() == 1


def test_the_signature_column_refuses_a_second_copy_even_past_the_check(devices, clock):
    kept = {"received_at": clock.at, "device": devices["a"], "status": 200, "signature": "ab" * 32}
    Alarm.objects.create(outcome="created", **kept)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alarm.objects.create(outcome="folded", **kept)
    Alarm.objects.create(outcome="folded", **{**kept, "device": devices["b"]})  # another device's
    for _ in range(2):  # refusals keep no signature
        Alarm.objects.create(received_at=clock.at, device=devices["a"], outcome="refused", status=401)


def test_two_devices_sharing_a_secret_may_send_the_same_body_in_the_same_second(client, devices, clock):
    Device.objects.filter(external_id=CAMERA_B).update(secret=Device.objects.get(external_id=CAMERA).secret)
    sent = alarm()
    assert fire(client, sent).status_code == 201
    assert fire(client, sent, device=CAMERA_B).status_code == 201
    assert sensor_cases().count() == 2


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("unsigned", 401, "signature_missing"),
        ("bad_signature", 401, "bad_signature"),
        ("wrong_secret", 401, "bad_signature"),
        ("tampered_body", 401, "bad_signature"),
        ("stale", 401, "stale_timestamp"),
        ("future", 401, "stale_timestamp"),
        ("no_timestamp", 401, "bad_timestamp"),
        ("no_device_id", 401, "device_id_missing"),
        ("unknown_device", 401, "unknown_device"),
        ("inactive_device", 403, "device_inactive"),
        ("unknown_type", 400, "unknown_alarm_type"),
        ("inactive_type", 400, "unknown_alarm_type"),
        ("malformed_json", 400, "malformed_body"),
        ("json_list", 400, "malformed_body"),
        ("no_alarm_id", 400, "bad_alarm"),
        ("bad_time", 400, "bad_alarm"),
        ("time_in_future", 400, "bad_alarm"),
        ("bad_place", 400, "bad_alarm"),
        ("outside_district", 400, "outside_district"),
        ("snapshot_not_base64", 400, "bad_snapshot"),
        ("snapshot_not_an_image", 400, "bad_snapshot"),
        ("snapshot_pdf", 400, "bad_snapshot"),
    ],
)
def test_bad_input_is_refused_with_a_clear_code_and_recorded(client, devices, clock, case, status, reason):
    stamp = int(clock.at.timestamp())
    body, kwargs = alarm(), {}
    if case == "unsigned":
        kwargs["headers"] = {"X-Signature": None}
    elif case == "bad_signature":
        kwargs["signature"] = "0" * 64
    elif case == "wrong_secret":
        kwargs["secret"] = "not-the-secret"
    elif case == "stale":
        kwargs["stamp"] = stamp - 301
    elif case == "future":
        kwargs["stamp"] = stamp + 301
    elif case == "no_timestamp":
        kwargs["headers"] = {"X-Timestamp": None}
    elif case == "no_device_id":
        kwargs["headers"] = {"X-Device-Id": None}
    elif case == "unknown_device":
        kwargs["device"] = "CAM-NOBODY"
    elif case == "inactive_device":
        Device.objects.filter(external_id=CAMERA).update(active=False)
    elif case == "unknown_type":
        body["type"] = "ufo_sighting"
    elif case == "inactive_type":
        AlarmType.objects.filter(code="illegal_parking").update(active=False)
    elif case == "malformed_json":
        body = b'{"alarm_id": "x", '
    elif case == "json_list":
        body = b"[1, 2]"
    elif case == "no_alarm_id":
        del body["alarm_id"]
    elif case == "bad_time":
        body["time"] = "yesterday"
    elif case == "time_in_future":
        body["time"] = stamp + 3600
    elif case == "bad_place":
        body["lon"] = "118.79"
    elif case == "outside_district":
        body["lon"], body["lat"] = 116.39, 39.91  # Beijing
    elif case == "snapshot_not_base64":
        body["snapshot"] = "not base64 at all!"
    elif case == "snapshot_not_an_image":
        body["snapshot"] = b64(b"GIF89a this is no picture")
    elif case == "snapshot_pdf":
        body["snapshot"] = b64(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    if case == "tampered_body":
        from civicgrid.devices import signing

        signed = signing.sign(SECRET, stamp, b'{"alarm_id": "original"}')
        response = fire(client, body, signature=signed, stamp=stamp)
    else:
        response = fire(client, body, **kwargs)

    error_of(response, status, reason)
    assert not sensor_cases().exists()
    assert not Alarm.objects.exclude(outcome=AlarmOutcome.REFUSED).exists()
    row = refusals(reason).get()
    assert row.status == status
    trail = AuditRecord.objects.filter(action="devices.alarm_refused").get()
    assert trail.detail == {"reason": reason, "status": status}
    assert trail.result == ("denied" if status in (401, 403, 409) else "failure")


def test_a_refused_alarm_does_not_burn_its_signature(client, devices, clock):
    """Someone who sniffed a signature and sends it first with a forged body must not get the
    device's real alarm refused as a replay."""
    sent = alarm()
    stamp = int(clock.at.timestamp())
    from civicgrid.devices import signing

    real = signing.sign(SECRET, stamp, __import__("json").dumps(sent).encode())
    error_of(fire(client, alarm(), signature=real, stamp=stamp), 401, "bad_signature")
    assert fire(client, sent, stamp=stamp).status_code == 201


def test_only_post_is_taken(client, devices):
    assert client.get("/devices/alarms").status_code == 405


def test_a_body_too_large_is_refused(client, devices, clock, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    error_of(fire(client, alarm(text="x" * 100, snapshot="A" * 80_000)), 413, "too_large")
    assert refusals("too_large").count() == 1


def test_an_address_flooding_refusals_is_ignored_for_a_minute_and_that_is_audited(
    client, devices, clock, settings
):
    settings.DEVICES_REFUSALS_PER_MINUTE = 3
    for _ in range(4):
        error_of(fire(client, alarm(), signature="0" * 64), 401, "bad_signature")
    error_of(fire(client, alarm(), signature="0" * 64), 429, "too_many_refusals")
    error_of(fire(client, alarm()), 429, "too_many_refusals")  # even a good one, for the minute

    assert refusals("bad_signature").count() == 4 and not refusals("too_many_refusals").exists()
    assert AuditRecord.objects.filter(action="devices.alarms_blocked").count() == 1
    assert not sensor_cases().exists()
