"""EncryptedTextField end to end: what the database holds, what every output shows, lookups."""

import copy
import json
import pickle

import pytest
from django import forms
from django.core import serializers
from django.core.exceptions import FieldError, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models
from django.template import Context, Template
from django.test.utils import isolate_apps
from ninja import Schema

from civicgrid.pii import crypto
from civicgrid.pii.fields import BlindIndexField, EncryptedTextField, Sensitive, pii_lookup
from tests.pii.helpers import raw_column

ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"


@pytest.fixture
def resident(resident_model):
    return resident_model.objects.create(
        name="张三丰",
        id_number=ID_NUMBER,
        phone="+86 138-0013-8000",
        address="江苏省南京市玄武区湖南路123号5栋301室",
        tags="社区矫正",
    )


def test_it_never_stores_the_plaintext(resident_model, resident):
    for column, secret in [("name", "张三丰"), ("id_number", ID_NUMBER), ("phone", "0013"), ("tags", "矫正")]:
        [stored] = raw_column(resident_model, column)
        assert stored.startswith("v1.") and secret not in stored
    [context_bound] = raw_column(resident_model, "phone")
    assert crypto.decrypt(context_bound, context="pii_testapp.Resident.phone") == "+86 138-0013-8000"


def test_it_reads_back_the_value_for_reveal(resident_model, resident):
    fresh = resident_model.objects.get(pk=resident.pk)
    assert isinstance(fresh.phone, Sensitive)
    assert fresh.phone.reveal() == "+86 138-0013-8000"
    assert fresh.id_number.reveal() == ID_NUMBER
    assert fresh.name.reveal() == "张三丰"


def test_it_shows_only_the_masked_form_everywhere(resident_model, resident):
    fresh = resident_model.objects.get(pk=resident.pk)
    assert str(fresh.phone) == "138****8000" and f"{fresh.phone}" == "138****8000"
    assert "%s" % fresh.id_number == "110105********002X"  # noqa: UP031 — logging formats this way
    assert PHONE not in repr(fresh.phone) and "138****8000" in repr(fresh.phone)
    assert str(fresh.name) == "张**" and str(fresh.tags) == "***"
    assert str(fresh.address) == "江苏省南京市玄武区湖南路****"

    page = Template("{{ r.name }} {{ r.phone }} {{ r.id_number|upper }} {{ r.address }}").render(
        Context({"r": fresh})
    )
    assert page == "张** 138****8000 110105********002X 江苏省南京市玄武区湖南路****"

    row = {"phone": fresh.phone, "id": fresh.id_number}
    for encoded in (json.dumps(row), json.dumps(row, cls=DjangoJSONEncoder)):
        assert json.loads(encoded) == {"phone": "138****8000", "id": "110105********002X"}

    class ResidentOut(Schema):
        name: str
        phone: str

    api = ResidentOut.model_validate(fresh, from_attributes=True).model_dump_json()
    assert json.loads(api) == {"name": "张**", "phone": "138****8000"}

    [(listed,)] = resident_model.objects.values_list("phone")
    assert str(listed) == "138****8000"


def test_it_masks_a_value_assigned_before_saving(resident_model):
    unsaved = resident_model(name="李四", phone=PHONE)
    assert str(unsaved.phone) == "138****8000" and unsaved.phone.reveal() == PHONE


def test_it_compares_by_real_value_not_by_mask(resident_model):
    a = resident_model(name="x", phone="13800138000").phone
    b = resident_model(name="x", phone="13811118000").phone
    assert str(a) == str(b) and a != b
    assert a == PHONE and a == resident_model(name="y", phone=PHONE).phone
    assert len({a, b}) == 2


def test_it_pickles_and_serialises_the_token_never_the_plaintext(resident_model, resident):
    fresh = resident_model.objects.get(pk=resident.pk)
    pickled = pickle.dumps(fresh)
    assert PHONE.encode() not in pickled and "张三丰".encode() not in pickled
    assert pickle.loads(pickled).phone.reveal() == "+86 138-0013-8000"
    assert copy.deepcopy(fresh).phone.reveal() == "+86 138-0013-8000"

    dumped = serializers.serialize("json", [fresh])
    assert "0013" not in dumped and "138****" not in dumped
    [loaded] = list(serializers.deserialize("json", dumped))
    assert loaded.object.phone.reveal() == "+86 138-0013-8000"


def test_it_keeps_the_blind_indexes_up_to_date(resident_model, resident):
    assert resident.phone_index == crypto.blind_index(PHONE, kind="phone")
    assert resident.id_number_index == crypto.blind_index(ID_NUMBER, kind="id_number")
    assert list(pii_lookup(resident_model.objects, "phone", "138 0013 8000")) == [resident]
    assert list(pii_lookup(resident_model.objects.all(), "id_number", ID_NUMBER.lower())) == [resident]
    assert not pii_lookup(resident_model.objects, "phone", "13800138001").exists()

    resident.phone = "13900139000"
    resident.save()
    assert not pii_lookup(resident_model.objects, "phone", PHONE).exists()
    assert pii_lookup(resident_model.objects, "phone", "13900139000").get() == resident


def test_it_indexes_rows_made_by_bulk_create(resident_model):
    resident_model.objects.bulk_create([resident_model(name="王五", phone=PHONE)])
    assert pii_lookup(resident_model.objects, "phone", PHONE).count() == 1


def test_it_refuses_a_lookup_without_a_blind_index(resident_model):
    with pytest.raises(FieldError, match="no blind index"):
        pii_lookup(resident_model.objects, "name", "张三")


def test_it_refuses_sql_comparisons_that_cannot_work(resident_model):
    with pytest.raises(FieldError, match="encrypted"):
        list(resident_model.objects.filter(phone=PHONE))
    with pytest.raises(FieldError, match="pii_lookup"):
        list(resident_model.objects.filter(name__icontains="张"))


def test_it_supports_null_and_blank(resident_model):
    empty = resident_model.objects.create(name="赵六", phone=None, id_number="")
    fresh = resident_model.objects.get(pk=empty.pk)
    assert fresh.phone is None and fresh.id_number == "" and fresh.address == ""
    assert fresh.phone_index is None and fresh.id_number_index is None
    assert raw_column(resident_model, "phone") == [None]
    assert raw_column(resident_model, "id_number") == [""]
    assert resident_model.objects.filter(phone__isnull=True).get() == empty


def test_it_keeps_the_ciphertext_when_saving_an_unchanged_value(resident_model, resident):
    before = raw_column(resident_model, "phone")
    fresh = resident_model.objects.get(pk=resident.pk)
    fresh.note = "visited"
    fresh.save()
    assert raw_column(resident_model, "phone") == before


def test_it_re_encrypts_a_value_copied_to_another_column(resident_model, resident):
    fresh = resident_model.objects.get(pk=resident.pk)
    fresh.name = fresh.address  # a different column, so a different context
    fresh.save()
    again = resident_model.objects.get(pk=resident.pk)
    assert again.name.reveal() == "江苏省南京市玄武区湖南路123号5栋301室"
    assert str(again.name) == "江" + "*" * 21  # masked as a name now
    [stored] = raw_column(resident_model, "name")
    assert crypto.decrypt(stored, context="pii_testapp.Resident.name")


def test_it_validates_by_kind_on_the_real_value(resident_model, resident):
    fresh = resident_model.objects.get(pk=resident.pk)
    fresh.full_clean()  # masked text would fail the ID check; the real value passes
    fresh.id_number = "110105194912310021"
    fresh.phone = "12345"
    with pytest.raises(ValidationError) as caught:
        fresh.full_clean()
    assert set(caught.value.message_dict) == {"id_number", "phone"}


def test_it_keeps_the_stored_value_when_a_form_posts_the_mask_back(resident_model, resident):
    class ResidentForm(forms.ModelForm):
        class Meta:
            model = resident_model
            fields = ["name", "phone", "note"]

    fresh = resident_model.objects.get(pk=resident.pk)
    shown = ResidentForm(instance=fresh)
    assert 'value="138****8000"' in str(shown["phone"]) and "0013" not in str(shown)
    posted = ResidentForm({"name": "张**", "phone": "138****8000", "note": "n"}, instance=fresh)
    assert posted.is_valid(), posted.errors
    posted.save()
    again = resident_model.objects.get(pk=resident.pk)
    assert again.phone.reveal() == "+86 138-0013-8000" and again.name.reveal() == "张三丰"

    changed = ResidentForm({"name": "张**", "phone": "139 0013 9000", "note": ""}, instance=again)
    assert changed.is_valid(), changed.errors
    changed.save()
    assert resident_model.objects.get(pk=resident.pk).phone.reveal() == "139 0013 9000"


def test_it_passes_the_system_checks(resident_model):
    assert resident_model.check() == []


@isolate_apps("tests.pii.testapp")
def test_it_reports_misconfigured_fields():
    class Broken(models.Model):
        phone = EncryptedTextField(kind="phone", index_field="missing", db_index=True)
        orphan_index = BlindIndexField()

        class Meta:
            app_label = "pii_testapp"

        def __str__(self) -> str:
            return str(self.phone)

    assert sorted(error.id for error in Broken.check()) == ["pii.E001", "pii.E002", "pii.E003"]


def test_it_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        EncryptedTextField(kind="passport")


@isolate_apps("tests.pii.testapp")
def test_it_serialises_into_migrations():
    from django.db.migrations.writer import MigrationWriter

    class Person(models.Model):
        phone = EncryptedTextField(
            "phone", kind="phone", index_field="phone_index", context="old.Person.phone", validate=False
        )
        phone_index = BlindIndexField(unique=True)
        id_number = EncryptedTextField(kind="id_number", blank=True, null=True)

        class Meta:
            app_label = "pii_testapp"

        def __str__(self) -> str:
            return str(self.phone)

    fields = [(f.name, f) for f in Person._meta.local_fields if f.name != "id"]
    migration = type(
        "Migration", (migrations.Migration,), {"operations": [migrations.CreateModel("Person", fields)]}
    )("0001_initial", "pii_testapp")
    namespace = {}
    exec(MigrationWriter(migration).as_string(), namespace)
    rebuilt = dict(namespace["Migration"].operations[0].fields)
    for name, original in fields:
        assert rebuilt[name].deconstruct()[1:] == original.deconstruct()[1:]
    assert rebuilt["phone"].deconstruct()[3] == {
        "verbose_name": "phone",
        "kind": "phone",
        "index_field": "phone_index",
        "context": "old.Person.phone",
        "validate": False,
    }
    assert rebuilt["phone_index"].deconstruct()[3] == {"unique": True}
