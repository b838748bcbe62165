"""Key rotation: census of tokens per key, re-encryption sweeps, adding and retiring keys.

The order matters and is the reason these are services, not loose steps: a key must be in the
key file before any value is encrypted under it, and may leave the file only when no value
uses it any more. Re-encryption runs in batches, each its own transaction, so a long sweep
can be stopped and resumed (``civicgrid pii reencrypt --commit`` picks up where it stopped).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction
from django.db.models.functions import Cast

from civicgrid.pii import crypto, keys
from civicgrid.pii.fields import EncryptedTextField, Sensitive

BATCH_SIZE = 500
RAW = "_pii_raw"
# Failures listed per field in a report; the count is always complete.
MAX_LISTED_FAILURES = 20

Progress = Callable[[str], None]


def _quiet(line: str) -> None:
    pass


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every EncryptedTextField of every installed model, once (on the model whose table holds it)."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for model_field in model._meta.local_concrete_fields:
            if isinstance(model_field, EncryptedTextField):
                found.append((model, model_field))
    return found


def _label(model_field: EncryptedTextField) -> str:
    return f"{model_field.model._meta.label}.{model_field.name}"


def _raw_values(model: type[models.Model], model_field: EncryptedTextField) -> models.QuerySet:
    # Cast to a plain text field skips from_db_value, so tokens are counted without decrypting.
    return (
        model._base_manager.annotate(**{RAW: Cast(model_field.name, output_field=models.TextField())})
        .exclude(**{f"{RAW}__isnull": True})
        .exclude(**{RAW: ""})
    )


def _key_prefix(key_id: str) -> str:
    return f"{crypto.TOKEN_VERSION}.{key_id}."


@dataclass
class FieldCensus:
    label: str
    by_key: Counter = field(default_factory=Counter)
    plaintext: int = 0  # non-empty values that are not tokens: stored unencrypted


def census() -> list[FieldCensus]:
    result = []
    for model, model_field in encrypted_fields():
        entry = FieldCensus(_label(model_field))
        for raw in _raw_values(model, model_field).values_list(RAW, flat=True).iterator(chunk_size=2000):
            key_id = crypto.token_key_id(raw)
            if key_id is None:
                entry.plaintext += 1
            else:
                entry.by_key[key_id] += 1
        result.append(entry)
    return result


@dataclass
class SweepReport:
    label: str
    examined: int = 0
    reencrypted: int = 0
    reindexed: int = 0
    adopted: int = 0  # plaintext values encrypted for the first time
    plaintext_left: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


def _sweep_field(
    model: type[models.Model],
    model_field: EncryptedTextField,
    *,
    commit: bool,
    everything: bool,
    reindex: bool,
    adopt_plaintext: bool,
    batch_size: int,
    progress: Progress,
) -> SweepReport:
    report = SweepReport(_label(model_field))
    current = keys.keyring().current_id
    rows = _raw_values(model, model_field)
    if not (everything or reindex):
        rows = rows.exclude(**{f"{RAW}__startswith": _key_prefix(current)})
    index_field = model._meta.get_field(model_field.index_field) if model_field.index_field else None
    write_index = index_field is not None and (reindex or adopt_plaintext)
    update_fields = [model_field.name] + ([index_field.name] if write_index else [])
    manager = model._base_manager
    total = rows.count()
    last_pk = None
    while True:
        # One transaction per batch; FOR UPDATE keeps a concurrent edit of the same row from
        # being overwritten by its re-encrypted old value (SQLite's IMMEDIATE transactions
        # already serialise writers, and it ignores FOR UPDATE).
        with transaction.atomic(using=manager.db):
            batch = rows.order_by("pk")
            if last_pk is not None:
                batch = batch.filter(pk__gt=last_pk)
            if commit:
                batch = batch.select_for_update()
            chunk = list(batch.values_list("pk", RAW)[:batch_size])
            if not chunk:
                break
            last_pk = chunk[-1][0]
            changed = []
            for pk, raw in chunk:
                report.examined += 1
                key_id = crypto.token_key_id(raw)
                if key_id is None and not adopt_plaintext:
                    report.plaintext_left += 1
                    continue
                try:
                    plaintext = raw if key_id is None else crypto.decrypt(raw, context=model_field.context)
                except crypto.DecryptionError as exc:
                    report.failed += 1
                    if len(report.failures) < MAX_LISTED_FAILURES:
                        report.failures.append(f"pk={pk}: {exc}")
                    continue
                if key_id is None:
                    report.adopted += 1
                elif key_id != current or everything:
                    report.reencrypted += 1
                keep = key_id is not None and key_id == current and not everything
                if not commit:
                    report.reindexed += int(write_index)
                    continue
                value = Sensitive(
                    plaintext,
                    kind=model_field.kind,
                    context=model_field.context,
                    token=raw if keep else None,
                )
                obj = model(pk=pk)
                setattr(obj, model_field.attname, value)
                if write_index:
                    setattr(obj, index_field.attname, value.blind_index())
                    report.reindexed += 1
                changed.append(obj)
            if changed:
                manager.bulk_update(changed, update_fields, batch_size=batch_size)
        progress(f"{report.label}: {report.examined}/{total}")
    return report


def sweep(
    *,
    commit: bool,
    reindex: bool = False,
    adopt_plaintext: bool = False,
    everything: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress = _quiet,
) -> list[SweepReport]:
    """Re-encrypt every value not under the current key (all values with ``everything``).

    ``reindex`` recomputes blind indexes (after a new index key); ``adopt_plaintext`` encrypts
    values stored before a column became an EncryptedTextField. Without ``commit`` nothing is
    written, but every value is still decrypted, so a dry run proves the sweep would succeed.
    """
    return [
        _sweep_field(
            model,
            model_field,
            commit=commit,
            everything=everything,
            reindex=reindex,
            adopt_plaintext=adopt_plaintext,
            batch_size=batch_size,
            progress=progress,
        )
        for model, model_field in encrypted_fields()
    ]


def key_add() -> str:
    """Add a key that is not yet current (to copy the file to every host before using it)."""
    path = keys.key_file_path()
    with keys.keyfile_locked(path) as ring:
        ring, key_id = ring.with_new_key(make_current=False)
        keys.keyring_write(ring, path)
    return key_id


def key_rotate(
    *,
    commit: bool,
    use_key_id: str | None = None,
    new_index_key: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress = _quiet,
) -> tuple[str | None, list[SweepReport]]:
    """Make a new (or the given, already added) key current, then re-encrypt everything under it.

    Returns the new current key id (None in a dry run) and the sweep reports.
    """
    if use_key_id is not None and use_key_id not in keys.keyring().keys:
        raise keys.KeyFileError(f"There is no key {use_key_id!r} in the key file; add it first.")
    if not commit:
        # Against the current key, "everything" is exactly what moving to a new key would touch.
        reports = sweep(
            commit=False, everything=True, reindex=new_index_key, batch_size=batch_size, progress=progress
        )
        return None, reports
    path = keys.key_file_path()
    with keys.keyfile_locked(path) as ring:
        if use_key_id is None:
            ring, key_id = ring.with_new_key()
        else:
            ring, key_id = ring.with_current(use_key_id), use_key_id
        if new_index_key:
            ring = ring.with_new_index_key()
        # The key file is written first: no value may be encrypted under a key it does not hold.
        keys.keyring_write(ring, path)
    progress(f"key file updated: current key is {key_id}")
    return key_id, sweep(commit=True, reindex=new_index_key, batch_size=batch_size, progress=progress)


def key_users(key_id: str) -> dict[str, int]:
    """How many stored values per field still use ``key_id``."""
    users = {}
    for model, model_field in encrypted_fields():
        count = _raw_values(model, model_field).filter(**{f"{RAW}__startswith": _key_prefix(key_id)}).count()
        if count:
            users[_label(model_field)] = count
    return users


def key_retire(key_id: str, *, commit: bool) -> dict[str, int]:
    """Remove a key no value uses. Returns the users found; the key is kept if there are any."""
    keys.keyring().without_key(key_id)  # raises for the current or an unknown key, before any scan
    users = key_users(key_id)
    if commit and not users:
        path = keys.key_file_path()
        with keys.keyfile_locked(path) as ring:
            keys.keyring_write(ring.without_key(key_id), path)
    return users
