"""Personal data at rest: SM4 encryption (GB/T 32907, GCM mode) and a keyed blind index.

Self-contained on purpose (the standard library, ``cryptography`` and Django's settings only), so
that data migrations may import it without importing app code.

* Text (ID numbers, phones) is stored as ``sm4:<key version>:<base64(nonce ‖ ciphertext ‖ tag)>``;
  the empty string stays empty. A stored value without the prefix is plain text written before
  encryption was introduced and is read as it is (the migrations encrypt such rows).
* A JSON document (application form data) is stored, in its JSON column, as the JSON string
  ``"sm4:<key version>:<base64>"`` of its encrypted JSON text; a stored object or array is a
  document written before encryption and is read as it is.
* Files (uploaded materials) are stored as ``MAGIC ‖ key version (2 bytes) ‖ nonce ‖ ciphertext ‖
  tag``; files without the magic are read as they are.
* The blind index of a value is ``<index key version>:<hex HMAC-SM3(index key, value)>``: equal
  values have equal indexes, so look-ups and unique constraints use it; it reveals nothing
  without the index key.

Keys live outside the database, in the key file ``TONGBAN_PERSONAL_DATA_KEY_FILE`` (when unset,
generated once into ``DATA_DIR/personal-data.keys``, mode 600). One key a line::

    data 2 <32 hex digits: a 128-bit SM4 key>
    data 1 <...>
    index 1 <64 hex digits: the HMAC key of the blind index>

The first ``data`` line is the current key (it encrypts everything written); the others decrypt
what they wrote until ``tongban rotate_keys`` has re-encrypted it. The same holds for ``index``
lines: look-ups try every index key, writes use the first. Rotation is described in
docs/privacy.md.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

TEXT_PREFIX = "sm4:"
FILE_MAGIC = b"TBSM4\x01"
NONCE_BYTES = 12
TAG_BYTES = 16
DATA_KEY_BYTES = 16
INDEX_KEY_BYTES = 32


class DecryptionError(ValueError):
    """A stored value that the configured keys cannot decrypt (unknown key version, altered)."""


@dataclass(frozen=True)
class KeyRing:
    data: tuple[tuple[int, bytes], ...]  # (version, key), the current key first
    index: tuple[tuple[int, bytes], ...]

    @property
    def current_data_version(self) -> int:
        return self.data[0][0]

    @property
    def current_index_version(self) -> int:
        return self.index[0][0]

    def data_key(self, version: int) -> bytes:
        for v, key in self.data:
            if v == version:
                return key
        raise DecryptionError(f"personal data key version {version} is not configured")


# --- keys -------------------------------------------------------------------------------------

def key_path() -> Path:
    configured = getattr(settings, "PERSONAL_DATA_KEY_FILE", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "personal-data.keys"


# How long a process uses the key file it read before looking at it again. A value written under
# a key this process has not seen yet makes it look at once (``ring_for``).
KEY_RECHECK_SECONDS = 1.0
_RINGS: dict[tuple[str, str], tuple[float, KeyRing]] = {}


def keys(*, fresh: bool = False) -> KeyRing:
    """The configured keys (generated into the data directory when no key file is configured).
    Every field read and write asks: the file is looked at again at most every
    ``KEY_RECHECK_SECONDS`` (or at once with ``fresh``)."""
    where = (getattr(settings, "PERSONAL_DATA_KEY_FILE", ""), str(settings.DATA_DIR))
    now = time.monotonic()
    cached = _RINGS.get(where)
    if cached is not None and not fresh and now - cached[0] < KEY_RECHECK_SECONDS:
        return cached[1]
    path = key_path()
    if not path.exists():
        if where[0]:
            raise ImproperlyConfigured(f"TONGBAN_PERSONAL_DATA_KEY_FILE: {path} does not exist")
        generate_key_file(path)
    ring = _load(str(path), path.stat().st_mtime_ns)
    _RINGS[where] = (now, ring)
    return ring


def ring_for(version: int, ring: KeyRing | None) -> KeyRing:
    """A key ring that holds data key ``version``: the one given, or the file read again (a key
    another process has just added)."""
    ring = ring or keys()
    if any(v == version for v, _k in ring.data):
        return ring
    return keys(fresh=True)


def generate_key_file(path: Path) -> None:
    """Write a new key file (one data key, one index key) unless one exists already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (f"data 1 {secrets.token_hex(DATA_KEY_BYTES)}\n"
            f"index 1 {secrets.token_hex(INDEX_KEY_BYTES)}\n")
    # Written whole under a name of its own, then linked into place: another process starting at
    # the same moment sees no file or a complete one, and the first link wins.
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return  # another process was first: use its keys
    finally:
        temporary.unlink()
    if not settings.DEBUG and not os.environ.get("PYTEST_VERSION"):
        log.warning("Generated personal data keys in %s: keep a copy in a safe place and set "
                    "TONGBAN_PERSONAL_DATA_KEY_FILE to a file outside the data directory.", path)


def parse_key_file(text: str, source: str = "key file") -> KeyRing:
    data: list[tuple[int, bytes]] = []
    index: list[tuple[int, bytes]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        try:
            kind, version, key = parts[0], int(parts[1]), bytes.fromhex(parts[2])
            if len(parts) != 3 or kind not in {"data", "index"} or version < 1:
                raise ValueError
        except (ValueError, IndexError):
            raise ImproperlyConfigured(
                f"{source}, line {number}: expected 'data|index <version> <hex key>'") from None
        if kind == "data" and len(key) != DATA_KEY_BYTES:
            raise ImproperlyConfigured(
                f"{source}, line {number}: an SM4 key has {DATA_KEY_BYTES * 2} hex digits")
        if kind == "index" and len(key) < 16:
            raise ImproperlyConfigured(f"{source}, line {number}: an index key has at least 32 hex digits")
        target = data if kind == "data" else index
        if any(v == version for v, _k in target):
            raise ImproperlyConfigured(f"{source}, line {number}: {kind} key version {version} twice")
        target.append((version, key))
    if not data or not index:
        raise ImproperlyConfigured(f"{source}: needs at least one 'data' and one 'index' key")
    return KeyRing(tuple(data), tuple(index))


def add_key(kind: str) -> int:
    """Put a new random key of ``kind`` (``data`` or ``index``) first in the key file, making it
    the current one; the older keys stay to read what they wrote. Returns the new version."""
    if kind not in {"data", "index"}:
        raise ValueError(kind)
    ring = keys()
    path = key_path()
    version = max(v for v, _k in (ring.data if kind == "data" else ring.index)) + 1
    size = DATA_KEY_BYTES if kind == "data" else INDEX_KEY_BYTES
    text = f"{kind} {version} {secrets.token_hex(size)}\n" + path.read_text(encoding="ascii")
    parse_key_file(text, str(path))
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    os.replace(temporary, path)
    keys(fresh=True)
    return version


@lru_cache(maxsize=4)
def _load(path: str, _mtime: int) -> KeyRing:
    return parse_key_file(Path(path).read_text(encoding="ascii"), path)


# --- SM4-GCM ----------------------------------------------------------------------------------

def _seal(key: bytes, data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    return nonce + encryptor.update(data) + encryptor.finalize() + encryptor.tag


def _open(key: bytes, sealed: bytes) -> bytes:
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("ciphertext too short")
    nonce, body, tag = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:-TAG_BYTES], sealed[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError("ciphertext altered or wrong key") from None


def encrypt_text(value: str, ring: KeyRing | None = None) -> str:
    """The stored form of ``value`` under the current data key ("" stays "")."""
    if not value:
        return value
    ring = ring or keys()
    version, key = ring.data[0]
    sealed = _seal(key, value.encode("utf-8"))
    return f"{TEXT_PREFIX}{version}:{base64.b64encode(sealed).decode('ascii')}"


def is_encrypted_text(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(TEXT_PREFIX)  # type: ignore[union-attr]


def text_key_version(stored: str) -> int | None:
    """The data key version of a stored value; None for plain text (or empty)."""
    if not is_encrypted_text(stored):
        return None
    try:
        return int(stored[len(TEXT_PREFIX):].split(":", 1)[0])
    except ValueError:
        raise DecryptionError("malformed ciphertext") from None


def decrypt_text(stored: str, ring: KeyRing | None = None) -> str:
    """The plain text of a stored value (plain text written before encryption passes through)."""
    if not is_encrypted_text(stored):
        return stored
    version = text_key_version(stored) or 0
    ring = ring_for(version, ring)
    try:
        sealed = base64.b64decode(stored.split(":", 2)[2], validate=True)
    except (ValueError, IndexError):
        raise DecryptionError("malformed ciphertext") from None
    return _open(ring.data_key(version), sealed).decode("utf-8")


def encrypt_bytes(data: bytes, ring: KeyRing | None = None) -> bytes:
    ring = ring or keys()
    version, key = ring.data[0]
    return FILE_MAGIC + version.to_bytes(2, "big") + _seal(key, data)


def bytes_key_version(stored: bytes) -> int | None:
    """The data key version of a stored file; None for a plain (not yet encrypted) file."""
    if not stored.startswith(FILE_MAGIC) or len(stored) < len(FILE_MAGIC) + 2:
        return None
    return int.from_bytes(stored[len(FILE_MAGIC):len(FILE_MAGIC) + 2], "big")


def decrypt_bytes(stored: bytes, ring: KeyRing | None = None) -> bytes:
    version = bytes_key_version(stored)
    if version is None:
        return stored
    ring = ring_for(version, ring)
    return _open(ring.data_key(version), stored[len(FILE_MAGIC) + 2:])


# --- blind index ------------------------------------------------------------------------------

def _mac(key: bytes, value: str) -> str:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(value.encode("utf-8"))
    return mac.finalize().hex()


def blind_index(value: str, ring: KeyRing | None = None) -> str:
    """The blind index of ``value`` under the current index key ("" for "")."""
    if not value:
        return ""
    ring = ring or keys()
    version, key = ring.index[0]
    return f"{version}:{_mac(key, value)}"


def blind_indexes(value: str, ring: KeyRing | None = None) -> list[str]:
    """The blind index of ``value`` under every configured index key (current first): what a
    look-up matches while rows written under an older index key are being re-indexed."""
    if not value:
        return [""]
    ring = ring or keys()
    return [f"{version}:{_mac(key, value)}" for version, key in ring.index]


def index_key_version(stored_index: str) -> int | None:
    if not stored_index:
        return None
    head = stored_index.split(":", 1)[0]
    return int(head) if head.isdigit() else None



# --- bulk (re-)encryption: the migrations and ``tongban rotate_keys`` -------------------------

def encrypt_json(value: Any, ring: KeyRing | None = None, encoder: Any = None) -> str:
    """The stored form of a JSON document (a JSON column then holds this string): its JSON text
    encrypted like any text. Every document is encrypted, an empty one too."""
    return encrypt_text(json.dumps(value, cls=encoder, ensure_ascii=False, separators=(",", ":")),
                        ring)


def decrypt_json(value: Any, ring: KeyRing | None = None, decoder: Any = None) -> Any:
    """The document of a JSON column's (decoded) value: a string ``sm4:…`` is decrypted; any
    other value is a document stored before encryption and is returned as it is."""
    if isinstance(value, str) and is_encrypted_text(value):
        return json.loads(decrypt_text(value, ring), cls=decoder)
    return value


def _reencrypt_json(stored: Any, ring: KeyRing, decrypt: bool) -> Any:
    """The new raw (JSON text) value of a JSON column, or ``stored`` when it is as wanted."""
    if stored is None:
        return stored
    raw = stored if isinstance(stored, str) else json.dumps(stored)
    value = json.loads(raw)
    encrypted = isinstance(value, str) and is_encrypted_text(value)
    if decrypt:
        if not encrypted:
            return stored
        return json.dumps(decrypt_json(value, ring), ensure_ascii=False)
    if encrypted and text_key_version(value) == ring.current_data_version:
        return stored
    return json.dumps(encrypt_json(decrypt_json(value, ring), ring))


def reencrypt_table(connection: Any, table: str, pk: str, text_columns: list[str],
                    index_columns: dict[str, str], *, json_columns: list[str] | None = None,
                    decrypt: bool = False, batch: int = 500) -> int:
    """Bring every row of ``table`` to the current keys: plain or older-key values of
    ``text_columns`` are encrypted under the current data key, ``index_columns`` (index
    column → its text column) hold the blind index under the current index key, and the
    documents of ``json_columns`` (JSON columns, e.g. form data) are stored as the JSON string of
    their encrypted JSON text (:func:`encrypt_json`). ``decrypt``: the reverse, plain text, plain
    documents and empty indexes (undoing the migration). Raw SQL by column name, so that it runs
    the same in a migration and on the live models. Returns the rows changed."""
    ring = keys()
    q = connection.ops.quote_name
    json_columns = list(json_columns or [])
    columns = [*text_columns, *index_columns, *json_columns]
    if not columns:
        return 0
    head = f"SELECT {q(pk)}, {', '.join(q(c) for c in columns)} FROM {q(table)}"
    tail = f" ORDER BY {q(pk)} LIMIT {int(batch)}"
    # The old values are part of the condition: a row the platform changed meanwhile (already
    # under the current keys) is left as it is.
    update = (f"UPDATE {q(table)} SET {', '.join(f'{q(c)} = %s' for c in columns)} "
              f"WHERE {q(pk)} = %s AND {' AND '.join(f'{q(c)} = %s' for c in columns)}")
    changed, last = 0, None
    with connection.cursor() as cursor:
        while True:
            if last is None:
                cursor.execute(head + tail)
            else:
                cursor.execute(f"{head} WHERE {q(pk)} > %s{tail}", [last])
            rows = cursor.fetchall()
            if not rows:
                return changed
            for row in rows:
                last = row[0]
                stored = dict(zip(columns, row[1:], strict=True))
                plain = {c: decrypt_text(stored[c], ring) for c in text_columns}
                if decrypt:
                    new = {**plain, **{c: "" for c in index_columns}}
                else:
                    new = {c: stored[c] if (text_key_version(stored[c])
                                            == ring.current_data_version)
                           else encrypt_text(plain[c], ring) for c in text_columns}
                    new.update({c: blind_index(plain[source], ring)
                                for c, source in index_columns.items()})
                new.update({c: _reencrypt_json(stored[c], ring, decrypt) for c in json_columns})
                if any(new[c] != stored[c] for c in columns):
                    cursor.execute(update, [*(new[c] for c in columns), last,
                                            *(stored[c] for c in columns)])
                    changed += cursor.rowcount


def reencrypt_file(storage: Any, name: str, *, decrypt: bool = False) -> bool:
    """Store the file ``name`` of ``storage`` (a plain storage: the bytes as they are on disk)
    encrypted under the current data key, or (``decrypt``) in plain. True when rewritten."""
    from django.core.files.base import ContentFile

    ring = keys()
    with storage.open(name, "rb") as handle:
        stored = handle.read()
    version = bytes_key_version(stored)
    if decrypt:
        if version is None:
            return False
        new = decrypt_bytes(stored, ring)
    else:
        if version == ring.current_data_version:
            return False
        new = encrypt_bytes(decrypt_bytes(stored, ring), ring)
    storage.delete(name)
    saved = storage.save(name, ContentFile(new))
    if saved != name:
        raise OSError(f"{name} was stored again as {saved}")
    return True
