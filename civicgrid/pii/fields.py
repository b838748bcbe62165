"""Model fields for protected personal data: ``EncryptedTextField`` and its ``BlindIndexField``.

::

    class Resident(models.Model):
        phone = EncryptedTextField(_("phone"), kind=PIIKind.PHONE, index_field="phone_index", blank=True)
        phone_index = BlindIndexField()

    resident.phone = "138 0013 8000"     # encrypted on save; phone_index kept up to date
    str(resident.phone)                   # "138****8000", and so in templates, JSON, exports, logs
    pii_lookup(Resident.objects, "phone", "+86 13800138000")   # exact match via the blind index

The column holds only the token from ``crypto.encrypt``. Reading gives a ``Sensitive``: a str
whose text *is* the masked form, so anything that treats it as a string can show nothing more.
``Sensitive.reveal()`` gives the plaintext; only a service that checks the permission, takes the
stated reason and writes the audit record may call it (the field cannot know who is asking).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from civicgrid.pii import crypto
from civicgrid.pii.kinds import PIIKind
from civicgrid.pii.masking import mask
from civicgrid.pii.validators import validate_id_number, validate_mobile

_KIND_VALIDATORS = {PIIKind.ID_NUMBER: [validate_id_number], PIIKind.PHONE: [validate_mobile]}
# One-line values get a one-line input; addresses and tags may be long.
_SHORT_KINDS = frozenset({PIIKind.ID_NUMBER, PIIKind.PHONE, PIIKind.NAME})


class Sensitive(str):
    """A personal value whose string form is masked; ``reveal()`` gives the real one.

    Equality and hashing use the real value (two phones masked alike are still different).
    Pickling and ``dumpdata`` carry the encrypted token, never the plaintext.
    """

    kind: PIIKind
    context: str

    def __new__(cls, plaintext: str, *, kind: str, context: str, token: str | None = None) -> Sensitive:
        self = super().__new__(cls, mask(plaintext, kind))
        self._plaintext = plaintext
        self._token = token
        self.kind = PIIKind(kind)
        self.context = context
        return self

    @classmethod
    def from_token(cls, token: str, *, kind: str, context: str) -> Sensitive:
        return cls(crypto.decrypt(token, context=context), kind=kind, context=context, token=token)

    @property
    def masked(self) -> str:
        return str.__str__(self)

    def reveal(self) -> str:
        """The plaintext. Only for services that check permission, take a reason and audit."""
        return self._plaintext

    @property
    def token(self) -> str:
        # Encrypt once and keep it: saving an unchanged value does not rewrite its ciphertext.
        if self._token is None:
            self._token = crypto.encrypt(self._plaintext, context=self.context)
        return self._token

    def blind_index(self) -> str:
        return crypto.blind_index(self._plaintext, kind=self.kind)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"<Sensitive {self.kind.value} {self.masked!r}>"

    def __html__(self) -> str:
        return escape(self.masked)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sensitive):
            return self.kind == other.kind and self._plaintext == other._plaintext
        if isinstance(other, str):
            return self._plaintext == other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        # Equal to a plain str with the same plaintext, so the hash must be that str's hash.
        return hash(self._plaintext)

    def __reduce__(self):
        return (_sensitive_from_token, (self.token, self.kind.value, self.context))

    def __copy__(self) -> Sensitive:
        return self

    def __deepcopy__(self, memo: dict) -> Sensitive:
        return self


def _sensitive_from_token(token: str, kind: str, context: str) -> Sensitive:
    return Sensitive.from_token(token, kind=kind, context=context)


class SensitiveAttribute(DeferredAttribute):
    """Wraps whatever is assigned, so even an unsaved instance never shows plaintext."""

    def __set__(self, instance: models.Model, value: Any) -> None:
        instance.__dict__[self.field.attname] = self.field.wrap(value)


class EncryptedTextField(models.TextField):
    """Personal data encrypted at rest (AES-GCM), masked on read. See the module docstring.

    ``kind`` chooses the masking rule and, for ID and phone numbers, the validator (switch it
    off with ``validate=False``, e.g. for a phone column that also holds fixed lines).
    ``context`` is the associated data bound into every token; it defaults to
    ``"<app_label>.<Model>.<field>"``, so renaming the model or field needs ``context=`` set to
    the old name, or every stored value fails its integrity check.
    """

    descriptor_class = SensitiveAttribute
    description = _("Encrypted personal data")
    # Ciphertexts are random, so comparing them in SQL means nothing; only NULL tests work.
    allowed_lookups = frozenset({"isnull"})

    def __init__(
        self,
        *args: Any,
        kind: str,
        index_field: str | None = None,
        context: str | None = None,
        validate: bool = True,
        **kwargs: Any,
    ):
        try:
            self.kind = PIIKind(kind)
        except ValueError:
            raise ValueError(f"unknown kind of personal data: {kind!r}") from None
        self.index_field = index_field
        self.explicit_context = context
        self.validate_format = validate
        self.default_validators = list(_KIND_VALIDATORS.get(self.kind, [])) if validate else []
        super().__init__(*args, **kwargs)

    @property
    def context(self) -> str:
        return self.explicit_context or f"{self.model._meta.label}.{self.name}"

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind.value
        if self.index_field:
            kwargs["index_field"] = self.index_field
        if self.explicit_context:
            kwargs["context"] = self.explicit_context
        if not self.validate_format:
            kwargs["validate"] = False
        return name, path, args, kwargs

    def wrap(self, value: Any) -> Any:
        """The attribute value for ``value``: a ``Sensitive`` bound to this field, or None/''/expr."""
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, Sensitive):
            if value.context == self.context and value.kind == self.kind:
                return value
            value = value.reveal()
        if not isinstance(value, str):
            value = str(value)  # lazy translations, numbers
        if value == "":
            return ""
        return Sensitive(value, kind=self.kind, context=self.context)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Sensitive.from_token(value, kind=self.kind, context=self.context)

    def to_python(self, value: Any) -> Any:
        # Fixtures (dumpdata/loaddata) carry tokens; anything else is a plaintext value.
        if isinstance(value, str) and not isinstance(value, Sensitive) and crypto.is_token(value):
            return Sensitive.from_token(value, kind=self.kind, context=self.context)
        return self.wrap(value)

    def get_prep_value(self, value: Any) -> Any:
        value = self.wrap(value)
        if value is None or value == "":
            return value
        return value.token

    def value_to_string(self, obj: models.Model) -> Any:
        return self.get_prep_value(self.value_from_object(obj))

    def run_validators(self, value: Any) -> None:
        super().run_validators(value.reveal() if isinstance(value, Sensitive) else value)

    def save_form_data(self, instance: models.Model, data: Any) -> None:
        # A form shows the masked value; posting it back unchanged must keep the stored value,
        # not replace the real number with its asterisks.
        current = instance.__dict__.get(self.attname)
        if isinstance(current, Sensitive) and isinstance(data, str) and data == current.masked:
            return
        super().save_form_data(instance, data)

    def formfield(self, **kwargs: Any):
        defaults = {"widget": forms.TextInput} if self.kind in _SHORT_KINDS else {}
        return super().formfield(**{**defaults, **kwargs})

    def get_lookup(self, lookup_name: str):
        if lookup_name not in self.allowed_lookups:
            raise FieldError(
                f"{self.model._meta.label}.{self.name} is encrypted, so '{lookup_name}' cannot work "
                "in SQL; find exact values through its blind index with pii_lookup()."
            )
        return super().get_lookup(lookup_name)

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.unique or self.db_index:
            errors.append(
                checks.Error(
                    "An EncryptedTextField cannot be unique or indexed: every ciphertext differs.",
                    hint="Put unique=True on its BlindIndexField instead.",
                    obj=self,
                    id="pii.E001",
                )
            )
        if self.index_field:
            try:
                target = self.model._meta.get_field(self.index_field)
            except FieldDoesNotExist:
                target = None
            if not isinstance(target, BlindIndexField):
                errors.append(
                    checks.Error(
                        f"index_field {self.index_field!r} must name a BlindIndexField of this model.",
                        obj=self,
                        id="pii.E002",
                    )
                )
        return errors


class BlindIndexField(models.CharField):
    """The keyed blind index of the EncryptedTextField that names it in ``index_field``.

    It is computed in ``pre_save`` from that field's value, whatever the field order, so
    ``save()`` and ``bulk_create()`` keep it right. ``update()`` and ``bulk_update()`` do not
    call ``pre_save``; a ``save(update_fields=…)`` must list both fields.
    """

    description = _("Blind index of encrypted personal data")
    _defaults = {
        "max_length": crypto.INDEX_LENGTH,
        "db_index": True,
        "editable": False,
        "null": True,
        "blank": True,
    }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **{**self._defaults, **kwargs})

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        # Write only what differs from *our* defaults; Field.deconstruct compares with its own.
        for key, default in self._defaults.items():
            value = getattr(self, key)
            if value == default:
                kwargs.pop(key, None)
            else:
                kwargs[key] = value
        return name, path, args, kwargs

    @cached_property
    def source_field(self) -> EncryptedTextField | None:
        for candidate in self.model._meta.concrete_fields:
            if isinstance(candidate, EncryptedTextField) and candidate.index_field == self.name:
                return candidate
        return None

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        source = self.source_field
        if source is None:
            return super().pre_save(model_instance, add)
        value = source.wrap(getattr(model_instance, source.attname))
        if isinstance(value, Sensitive):
            index = value.blind_index()
        else:
            index = None if self.null else ""
        setattr(model_instance, self.attname, index)
        return index

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.source_field is None:
            errors.append(
                checks.Error(
                    "No EncryptedTextField names this BlindIndexField in its index_field.",
                    obj=self,
                    id="pii.E003",
                )
            )
        return errors


def pii_lookup(queryset: models.QuerySet | models.Manager, field_name: str, value: str) -> models.QuerySet:
    """Rows whose encrypted ``field_name`` equals ``value`` (after normalising), via the blind index."""
    field = queryset.model._meta.get_field(field_name)
    if not isinstance(field, EncryptedTextField) or not field.index_field:
        raise FieldError(f"{queryset.model._meta.label}.{field_name} has no blind index to look up.")
    return queryset.filter(**{field.index_field: crypto.blind_index(value, kind=field.kind)})
