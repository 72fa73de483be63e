"""Signing keys of the audit checkpoints: Ed25519 (default) or SM2 (GB/T 32918, gmssl-pyx).

The private key is read from ``TONGBAN_AUDIT_SIGNING_KEY_FILE``. When that is unset, a key is
generated once into ``audit-signing.key`` of the key directory (``TONGBAN_AUDIT_KEY_DIR``; by
default ``/etc/tongban`` when that directory exists and is writable, else
``$XDG_CONFIG_HOME/tongban`` or ``~/.config/tongban``), mode 600, with a warning — never into the
data directory: a key beside the data it signs lets whoever takes the data re-sign a rewritten
chain. A key an older version generated into ``DATA_DIR/audit-signing.key`` is moved there.

Key files: Ed25519 — a PKCS#8 PEM (``openssl genpkey -algorithm ed25519``) or the raw 32-byte
private key in hex; SM2 — the 32-byte private key in hex, optionally followed by the 64-byte public
key (x‖y) in hex on the next line (derived from the private key when absent).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

ED25519 = "ed25519"
SM2 = "sm2"
ALGORITHMS = (ED25519, SM2)


@dataclass(frozen=True)
class PublicKey:
    algorithm: str
    raw: bytes  # Ed25519: 32 bytes; SM2: 64 bytes (x‖y)

    @property
    def key_id(self) -> str:
        return key_id(self.algorithm, self.raw)

    @property
    def hex(self) -> str:
        return self.raw.hex()

    def pem(self) -> str:
        """SubjectPublicKeyInfo PEM (Ed25519 only; SM2 is published as hex)."""
        if self.algorithm != ED25519:
            return ""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        return Ed25519PublicKey.from_public_bytes(self.raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def verify(self, message: bytes, signature: bytes) -> bool:
        if self.algorithm == ED25519:
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            try:
                Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
            except InvalidSignature:
                return False
            return True
        import gmssl_pyx

        try:
            return bool(gmssl_pyx.sm2_verify(self.raw, message, signature))
        except gmssl_pyx.GmsslInnerError:
            return False


@dataclass(frozen=True)
class SigningKey:
    algorithm: str
    private: bytes
    public: PublicKey

    def sign(self, message: bytes) -> bytes:
        if self.algorithm == ED25519:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            return Ed25519PrivateKey.from_private_bytes(self.private).sign(message)
        import gmssl_pyx

        return bytes(gmssl_pyx.sm2_sign(self.private, self.public.raw, message))


def key_id(algorithm: str, raw_public: bytes) -> str:
    """16 hex digits naming a public key: the start of SHA-256 over ``algorithm:`` and the key."""
    return hashlib.sha256(algorithm.encode() + b":" + raw_public).hexdigest()[:16]


def checkpoint_message(*, seq: int, record_hash: str, hash_algorithm: str, count: int,
                       at: dt.datetime) -> bytes:
    """What a checkpoint's signature covers: one line of ASCII."""
    at_utc = at.astimezone(dt.UTC).isoformat()
    return (f"tongban-audit-checkpoint:v1:{seq}:{record_hash}:{hash_algorithm}:{count}:{at_utc}"
            .encode("ascii"))


# --- keys -------------------------------------------------------------------------------------

KEY_NAME = "audit-signing.key"


def key_dir() -> Path:
    """Where the generated key lives (``TONGBAN_AUDIT_KEY_DIR``, or the default outside the data
    directory: ``/etc/tongban`` when it exists and is writable, else the user's config dir)."""
    configured = getattr(settings, "AUDIT_KEY_DIR", "")
    if configured:
        return Path(configured)
    etc = Path("/etc/tongban")
    if etc.is_dir() and os.access(etc, os.W_OK):
        return etc
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "tongban"


def key_path() -> Path:
    configured = getattr(settings, "AUDIT_SIGNING_KEY_FILE", "")
    return Path(configured) if configured else key_dir() / KEY_NAME


def signing_key(*, create: bool = True) -> SigningKey | None:
    """The configured private key (generated into the key directory when none is configured)."""
    algorithm = settings.AUDIT_SIGNATURE
    path = key_path()
    if not path.exists():
        if getattr(settings, "AUDIT_SIGNING_KEY_FILE", ""):
            raise ImproperlyConfigured(f"TONGBAN_AUDIT_SIGNING_KEY_FILE: {path} does not exist")
        if not _move_legacy_key(path) and not create:
            return None
        if not path.exists():
            generate_key_file(path, algorithm, purpose="audit signing key",
                              setting="TONGBAN_AUDIT_SIGNING_KEY_FILE")
    return read_key_file(path, algorithm, purpose="audit signing key")


def read_key_file(path: Path, algorithm: str, *, purpose: str) -> SigningKey:
    """The private key in ``path`` (read again when the file changes)."""
    return _load(str(path), path.stat().st_mtime_ns, algorithm, purpose)


def _inside_data_dir(path: Path) -> bool:
    return path.resolve().is_relative_to(Path(settings.DATA_DIR).resolve())


def _move_legacy_key(path: Path) -> bool:
    """Move a key generated by an older version into the data directory to ``path`` (the key
    directory), so its checkpoints stay trusted and the key no longer sits beside the data."""
    legacy = Path(settings.DATA_DIR) / KEY_NAME
    if not legacy.exists() or _inside_data_dir(path):
        return False
    _make_key_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return True  # another process moved it meanwhile
    with os.fdopen(fd, "wb") as out:
        out.write(legacy.read_bytes())
    legacy.unlink()
    log.warning("Moved the audit signing key from the data directory (%s) to %s: a key beside "
                "the data it signs does not protect it.", legacy, path)
    return True


def _make_key_dir(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def trusted_keys() -> dict[str, PublicKey]:
    """Public keys whose checkpoints are trusted: the current key and the retired ones
    (``TONGBAN_AUDIT_TRUSTED_PUBLIC_KEYS``), by key id."""
    keys: dict[str, PublicKey] = {}
    current = signing_key(create=False)
    if current is not None:
        keys[current.public.key_id] = current.public
    keys.update(parse_public_keys(getattr(settings, "AUDIT_TRUSTED_PUBLIC_KEYS", ()),
                                  setting="TONGBAN_AUDIT_TRUSTED_PUBLIC_KEYS"))
    return keys


def parse_public_keys(entries: Any, *, setting: str) -> dict[str, PublicKey]:
    """``algorithm:HEX`` entries (a setting's list of retired keys) by key id."""
    keys: dict[str, PublicKey] = {}
    for entry in entries:
        algorithm, _sep, value = str(entry).partition(":")
        algorithm = algorithm.strip().lower()
        try:
            raw = bytes.fromhex(value.strip())
        except ValueError:
            raw = b""
        if algorithm not in ALGORITHMS or not raw:
            raise ImproperlyConfigured(f"{setting}: '{entry}' is not 'ed25519:HEX' or 'sm2:HEX'")
        public = PublicKey(algorithm, raw)
        keys[public.key_id] = public
    return keys


@lru_cache(maxsize=8)
def _load(path: str, _mtime: int, algorithm: str, purpose: str) -> SigningKey:
    text = Path(path).read_text(encoding="ascii").strip()
    try:
        if algorithm == ED25519:
            return _load_ed25519(text)
        return _load_sm2(text)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{purpose} {path} is not a valid {algorithm} key: {exc}") from exc


def _load_ed25519(text: str) -> SigningKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM file does not hold an Ed25519 key")
    else:
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))
    private = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SigningKey(ED25519, private, PublicKey(ED25519, public))


def _load_sm2(text: str) -> SigningKey:
    if text.startswith("-----BEGIN"):
        raise ValueError("SM2 keys are read as hex (private key, then optionally the public key)")
    parts = text.split()
    private = bytes.fromhex(parts[0])
    if len(private) != 32:
        raise ValueError("the SM2 private key must be 32 bytes")
    public = bytes.fromhex(parts[1]) if len(parts) > 1 else sm2_public_from_private(private)
    if len(public) != 64:
        raise ValueError("the SM2 public key must be 64 bytes (x‖y)")
    return SigningKey(SM2, private, PublicKey(SM2, public))


def generate_key_file(path: Path, algorithm: str, *, purpose: str, setting: str) -> None:
    """Write a new private key, readable by the owner only; another process doing the same at
    the same moment loses the race and reads the winner's key. ``purpose`` and ``setting`` name
    the key and the setting that points at a managed one in the warning."""
    if algorithm == ED25519:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        content = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
    else:
        import gmssl_pyx

        public, private = gmssl_pyx.sm2_key_generate()
        content = f"{bytes(private).hex()}\n{bytes(public).hex()}\n"
    _make_key_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(content)
    log.warning("Generated a new %s (%s) at %s. Production should set %s to a key it manages, "
                "kept away from the data directory and the database.", purpose, algorithm, path,
                setting)
    if _inside_data_dir(path):
        log.warning("The %s %s is inside the data directory %s: whoever can take the data can "
                    "re-sign what it signs. Set TONGBAN_AUDIT_KEY_DIR elsewhere.",
                    purpose, path, settings.DATA_DIR)


# SM2 curve (GB/T 32918.5): the public key is d·G.
_P = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF", 16)
_A = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC", 16)
_GX = int("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7", 16)
_GY = int("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0", 16)


def sm2_public_from_private(private: bytes) -> bytes:
    d = int.from_bytes(private, "big")
    point: tuple[int, int] | None = None
    addend: tuple[int, int] | None = (_GX, _GY)
    while d:
        if d & 1:
            point = _ec_add(point, addend)
        addend = _ec_add(addend, addend)
        d >>= 1
    if point is None:
        raise ValueError("the SM2 private key is zero")
    return point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")


def _ec_add(p: tuple[int, int] | None, q: tuple[int, int] | None) -> tuple[int, int] | None:
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0] and (p[1] + q[1]) % _P == 0:
        return None
    if p == q:
        slope = (3 * p[0] * p[0] + _A) * pow(2 * p[1], -1, _P) % _P
    else:
        slope = (q[1] - p[1]) * pow(q[0] - p[0], -1, _P) % _P
    x = (slope * slope - p[0] - q[0]) % _P
    return x, (slope * (p[0] - x) - p[1]) % _P
