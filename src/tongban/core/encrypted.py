"""Model fields and a file storage that keep personal data encrypted at rest (``core.crypto``).

* :class:`EncryptedTextField` — SM4 ciphertext in the database, plain text on the model. It takes
  no look-ups but ``isnull``: compare with :func:`matches` on its blind index instead.
* :class:`EncryptedJSONField` — a JSON document (form data) stored as the JSON string of its SM4
  ciphertext; likewise only ``isnull``.
* :class:`BlindIndexField` — the keyed blind index of another field of the same model, computed on
  every ``save()`` (so write through ``save()``; ``QuerySet.update`` does not refresh it). Equality
  look-ups and unique constraints use it.
* :class:`EncryptedStorage` — wraps the default storage: encrypts on save, decrypts on open.
  Files are reachable only through the views that check who may read them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.apps import apps
from django.core.exceptions import FieldError
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage, storages
from django.db import connection, models, transaction
from django.db.models.expressions import Combinable
from django.utils.deconstruct import deconstructible

from . import crypto
from .prepared import ConvertedOnRead


class EncryptedTextField(models.TextField[str | Combinable, str]):
    """Text stored as SM4 ciphertext (``core.crypto.encrypt_text``); ``max_length`` limits the
    plain text (forms), the column holds the longer ciphertext. A row read by a prepared
    lookup (``core.prepared.Lookup``: the case a transition locks) is decrypted when the
    attribute is first read (``ConvertedOnRead``)."""

    descriptor_class = ConvertedOnRead

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return value
        return crypto.decrypt_text(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "" or crypto.is_encrypted_text(value):
            return value
        return crypto.encrypt_text(value)

    def formfield(self, **kwargs: Any) -> Any:
        # A one-line input, as the plain CharField had (a TextField would give a text area).
        return super().formfield(**{"widget": forms.TextInput, **kwargs})

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted: compare its blind index "
                         f"(core.encrypted.matches) instead of '{lookup_name}'")

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted: no '{lookup_name}'")


class EncryptedJSONField(models.JSONField):
    """A JSON document stored encrypted in a JSON column: the column holds the JSON string
    ``"sm4:<version>:<base64>"`` of the document's encrypted JSON text (``core.crypto.encrypt_json``).
    A document stored before encryption (a plain object or array) is read as it is. No key,
    path or containment look-up: the database cannot see inside. Decrypted when first read,
    like :class:`EncryptedTextField`."""

    descriptor_class = ConvertedOnRead

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        value = super().from_db_value(value, expression, connection)
        return crypto.decrypt_json(value, decoder=self.decoder)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or (isinstance(value, str) and crypto.is_encrypted_text(value)):
            return value
        return crypto.encrypt_json(value, encoder=self.encoder)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted: no '{lookup_name}'")

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted: no '{lookup_name}'")


class BlindIndexField(models.CharField[str | Combinable, str]):
    """The blind index (``core.crypto.blind_index``) of the field named ``source``."""

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 80)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, value in (("max_length", 80), ("blank", True), ("default", "")):
            if kwargs.get(key) == value:
                del kwargs[key]
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = crypto.blind_index(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


def with_blind_indexes(model: type[models.Model], update_fields: Any) -> Any:
    """``update_fields`` of a ``save()`` with the blind index of every encrypted field in it
    added (a partial save would otherwise leave the index stale); None stays None."""
    if update_fields is None:
        return None
    names = set(update_fields)
    for field in model._meta.concrete_fields:
        if isinstance(field, BlindIndexField) and field.source in names:
            names.add(field.name)
    return names


def matches(field: str, value: str) -> models.Q:
    """``Q`` matching rows whose encrypted ``field`` equals ``value``, through its blind index
    (every configured index key, so rows not yet re-indexed after a rotation still match)."""
    return models.Q(**{f"{field}_index__in": crypto.blind_indexes(value)})


@deconstructible(path="tongban.core.encrypted.EncryptedStorage")
class EncryptedStorage(Storage):
    """The default storage with every file's bytes SM4-encrypted (``core.crypto.encrypt_bytes``).

    Names, existence and deletion are those of the wrapped storage; ``size`` is the stored
    (encrypted) size; there is no public URL. Files stored before encryption are read as they are.
    """

    def __init__(self, inner: str = "default") -> None:
        self.inner_alias = inner

    @property
    def inner(self) -> Storage:
        return storages[self.inner_alias]

    def _open(self, name: str, mode: str = "rb") -> File[bytes]:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("encrypted files are written through save()")
        with self.inner.open(name, "rb") as handle:
            stored = handle.read()
        return ContentFile(crypto.decrypt_bytes(stored), name=name)

    def _save(self, name: str, content: File[Any]) -> str:
        content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        return self.inner.save(name, ContentFile(crypto.encrypt_bytes(data)))

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return self.inner.get_available_name(name, max_length=max_length)

    def get_valid_name(self, name: str) -> str:
        return self.inner.get_valid_name(name)

    def delete(self, name: str) -> None:
        self.inner.delete(name)

    def exists(self, name: str) -> bool:
        return self.inner.exists(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self.inner.listdir(path)

    def size(self, name: str) -> int:
        return self.inner.size(name)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("encrypted files have no public URL")


material_storage = EncryptedStorage()


# --- key rotation -----------------------------------------------------------------------------

def encrypted_models() -> list[tuple[type[models.Model], list[str], dict[str, str], list[str],
                                    list[str]]]:
    """Every model holding encrypted data: (model, text columns, index column → text column,
    names of file fields stored through an :class:`EncryptedStorage`, JSON columns)."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        fields = model._meta.concrete_fields
        columns = {f.name: str(f.column) for f in fields}
        text = [columns[f.name] for f in fields if isinstance(f, EncryptedTextField)]
        index = {columns[f.name]: columns[f.source] for f in fields if isinstance(f, BlindIndexField)}
        files = [f.name for f in fields
                 if isinstance(f, models.FileField) and isinstance(f.storage, EncryptedStorage)]
        documents = [columns[f.name] for f in fields if isinstance(f, EncryptedJSONField)]
        if text or index or files or documents:
            found.append((model, text, index, files, documents))
    return found


# Tables that keep the blind index of a value they do not hold (the exchange log keeps who was
# read, never the ID number): they cannot be re-indexed from their own rows. Each registers a
# callable (its app's ``ready``) that re-indexes its rows from values held elsewhere (accounts,
# records) and returns (label, rows rewritten); :func:`rotate_keys` calls it after its pass.
index_followers: list[Callable[[], tuple[str, int]]] = []


# ``actor`` is an ``accounts.permissions.Actor``, typed ``Any``: core sits below accounts and
# cannot import it.
def rotate_keys(*, actor: Any) -> dict[str, int]:
    """Re-encrypt every stored ID number, phone, application form and material file under the
    current data key and recompute every blind index under the current index key
    (``tongban rotate_keys``).

    Safe while the platform runs: a row changed meanwhile is left as the platform wrote it
    (already under the current keys); look-ups match every configured index key. Returns the
    rows and files rewritten per model (``app_label.Model``); audited as ``personal_data.rotated``.
    """
    from tongban.core.auditing import record as audit_record  # core is below the audit app

    counts: dict[str, int] = {}
    for model, text, index, files, documents in encrypted_models():
        label = model._meta.label
        counts[label] = 0
        if text or index or documents:
            with transaction.atomic():
                counts[label] = crypto.reencrypt_table(connection, model._meta.db_table,
                                                       str(model._meta.pk.column), text, index,
                                                       json_columns=documents)
        for name in files:
            field = model._meta.get_field(name)
            assert isinstance(field, models.FileField)
            storage = field.storage
            assert isinstance(storage, EncryptedStorage)
            stored = (model._default_manager.exclude(**{name: ""})
                      .values_list(name, flat=True).distinct())
            for file_name in stored.iterator():
                if storage.inner.exists(file_name) and crypto.reencrypt_file(storage.inner,
                                                                              file_name):
                    counts[label] += 1
    for follower in index_followers:
        label, rewritten = follower()
        counts[label] = rewritten
    ring = crypto.keys()
    with transaction.atomic():
        audit_record(actor=actor, action="personal_data.rotated", object_type="keys",
                     object_id=f"data:{ring.current_data_version},index:{ring.current_index_version}",
                     detail={"rewritten": counts})
    return counts
