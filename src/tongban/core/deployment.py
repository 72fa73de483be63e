"""Settings for running on several nodes, read from the environment by ``tongban.settings``
(docs/deployment.md). Plain functions of the environment, so the tests can check each variant
without starting Django again. Nothing here imports Django's configured parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# The cache schemes Django's own Redis backend understands (redis-py's URL forms).
REDIS_SCHEMES = ("redis", "rediss", "unix")
LOCAL_CACHE = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tongban"}


class DeploymentSettingError(ImproperlyConfigured):
    """A deployment variable has a value the platform cannot use."""


def cache_config(url: str) -> dict[str, Any]:
    """Django's ``CACHES["default"]`` for ``TONGBAN_CACHE_URL``.

    Empty or ``locmem://``: this process's memory — right for one process, wrong for anything
    that must agree across processes. ``redis://host:port/db`` (or ``rediss://``, ``unix://``):
    one Redis all nodes share, through Django's ``RedisCache`` (needs the ``redis`` package). The
    key prefix keeps the platform's keys apart from anything else kept in that Redis database.
    """
    url = url.strip()
    scheme = urlsplit(url).scheme.lower() if url else ""
    if scheme in ("", "locmem"):
        return dict(LOCAL_CACHE)
    if scheme in REDIS_SCHEMES:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                "KEY_PREFIX": "tongban"}
    raise DeploymentSettingError(
        f"TONGBAN_CACHE_URL: unknown scheme {scheme!r} (use redis://, rediss://, unix:// or "
        "locmem://)")


def media_storage(env: Mapping[str, str]) -> dict[str, Any]:
    """Django's ``STORAGES["default"]``: where uploaded files (materials, attachments) live.

    Without ``TONGBAN_S3_BUCKET``: the file system under ``MEDIA_ROOT``
    (``TONGBAN_MEDIA_ROOT``, by default ``DATA_DIR/media``); on several nodes, a path every
    node mounts (NFS, CephFS, a cluster file system). With it: any S3-compatible object store
    through django-storages (MinIO, Ceph RGW, the cloud's object storage), addressed by
    ``TONGBAN_S3_ENDPOINT_URL``. Either way ``core.encrypted.EncryptedStorage`` wraps this
    storage, so the store only ever holds ciphertext.
    """
    bucket = env.get("TONGBAN_S3_BUCKET", "").strip()
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    options: dict[str, Any] = {
        "bucket_name": bucket,
        # Files are reached only through the views that check who may read them: private, and
        # never overwritten in place (a second upload of the same name gets a new name).
        "default_acl": "private",
        "file_overwrite": False,
        "querystring_auth": True,
        "location": env.get("TONGBAN_S3_PREFIX", "").strip().strip("/"),
    }
    for option, name in (("endpoint_url", "TONGBAN_S3_ENDPOINT_URL"),
                         ("region_name", "TONGBAN_S3_REGION"),
                         ("access_key", "TONGBAN_S3_ACCESS_KEY_ID"),
                         ("secret_key", "TONGBAN_S3_SECRET_ACCESS_KEY")):
        value = env.get(name, "").strip()
        if value:
            options[option] = value
    # Path-style addressing (https://host/bucket/key): what most self-hosted stores expect.
    addressing = env.get("TONGBAN_S3_ADDRESSING_STYLE", "path").strip() or "path"
    if addressing not in ("path", "virtual", "auto"):
        raise DeploymentSettingError("TONGBAN_S3_ADDRESSING_STYLE must be path, virtual or auto")
    options["addressing_style"] = addressing
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def metrics_networks(value: str) -> list[str]:
    """``TONGBAN_METRICS_NETWORKS``: comma-separated networks (CIDR, or one address), each
    checked here, at start: a value ``ipaddress`` cannot read stops the process with the variable
    and the value named, instead of every scrape of ``/metrics`` answering 500."""
    import ipaddress

    networks = [n.strip() for n in value.split(",") if n.strip()]
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise DeploymentSettingError(
                f"TONGBAN_METRICS_NETWORKS: {network!r} is not a network (use CIDR such as "
                "10.0.0.0/8 or an address, separated by commas)") from None
    return networks
