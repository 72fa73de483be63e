"""The licence signing key and what its signature covers.

A key of its own (never the audit log's): ``TONGBAN_LICENCE_SIGNING_KEY_FILE``, or generated once
as ``licence-signing.key`` in the key directory of ``audit.signing`` (outside the data
directory), Ed25519 by default or SM2 (``TONGBAN_LICENCE_SIGNATURE``). The public keys — the
current one and the retired ones of ``TONGBAN_LICENCE_TRUSTED_PUBLIC_KEYS`` — are published at
``GET /api/v1/licences/keys`` so that anyone can check a downloaded licence file offline.

The signature covers ``MESSAGE_PREFIX`` + the canonical JSON of the licence's content: keys
sorted, no spaces, UTF-8, ``ensure_ascii`` off (:func:`canonical`).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from tongban.audit.signing import (
    PublicKey,
    SigningKey,
    generate_key_file,
    key_dir,
    parse_public_keys,
    read_key_file,
)

KEY_NAME = "licence-signing.key"
MESSAGE_PREFIX = b"tongban-licence:v1\n"
FORMAT = "tongban-licence/1"
PURPOSE = "licence signing key"


def key_path() -> Path:
    configured = getattr(settings, "LICENCE_SIGNING_KEY_FILE", "")
    return Path(configured) if configured else key_dir() / KEY_NAME


def signing_key(*, create: bool = True) -> SigningKey | None:
    path = key_path()
    if not path.exists():
        if getattr(settings, "LICENCE_SIGNING_KEY_FILE", ""):
            raise ImproperlyConfigured(f"TONGBAN_LICENCE_SIGNING_KEY_FILE: {path} does not exist")
        if not create:
            return None
        generate_key_file(path, settings.LICENCE_SIGNATURE, purpose=PURPOSE,
                          setting="TONGBAN_LICENCE_SIGNING_KEY_FILE")
    return read_key_file(path, settings.LICENCE_SIGNATURE, purpose=PURPOSE)


def trusted_keys() -> dict[str, PublicKey]:
    """The published public keys by key id: the current key first, then the retired ones."""
    keys: dict[str, PublicKey] = {}
    current = signing_key(create=False)
    if current is not None:
        keys[current.public.key_id] = current.public
    keys.update(parse_public_keys(getattr(settings, "LICENCE_TRUSTED_PUBLIC_KEYS", ()),
                                  setting="TONGBAN_LICENCE_TRUSTED_PUBLIC_KEYS"))
    return keys


def canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def message(canonical_text: str) -> bytes:
    return MESSAGE_PREFIX + canonical_text.encode("utf-8")


def sign(canonical_text: str) -> tuple[str, str, str]:
    """(algorithm, key id, base64 signature) of the canonical content."""
    key = signing_key()
    assert key is not None  # created when missing
    signature = key.sign(message(canonical_text))
    return key.algorithm, key.public.key_id, base64.b64encode(signature).decode("ascii")


def signature_holds(canonical_text: str, *, key_id: str, signature: str,
                    keys: dict[str, PublicKey]) -> bool:
    """Whether ``signature`` (base64) over the content verifies with the key ``key_id``."""
    public = keys.get(key_id)
    if public is None:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
    except (ValueError, TypeError):
        return False
    return public.verify(message(canonical_text), raw)


def published(keys: dict[str, PublicKey]) -> list[dict[str, str]]:
    """The public keys as published (and as ``tongban verify_licence --keys`` reads them)."""
    return [{"key_id": k.key_id, "algorithm": k.algorithm, "public_key": k.hex, "pem": k.pem()}
            for k in keys.values()]


def keys_from_published(document: Any) -> dict[str, PublicKey]:
    """Public keys from a downloaded key document (``published``'s form, or ``{"keys": …}``)."""
    entries = document.get("keys", document) if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise ValueError("not a list of keys")
    keys: dict[str, PublicKey] = {}
    for entry in entries:
        public = PublicKey(str(entry["algorithm"]).lower(), bytes.fromhex(str(entry["public_key"])))
        keys[public.key_id] = public
    return keys
