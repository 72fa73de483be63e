"""The settings of a deployment on several nodes (core/deployment.py, docs/deployment.md):
the shared cache and where uploads live. Functions of the environment, checked per variant."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from tongban.core.deployment import cache_config, media_storage, metrics_networks


def test_without_a_cache_url_each_process_keeps_its_own_cache() -> None:
    for url in ("", "  ", "locmem://"):
        assert cache_config(url)["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://cache.internal:6380/1",
                                 "unix:///run/redis/redis.sock?db=2"])
def test_a_redis_url_gives_the_cache_every_node_shares(url: str) -> None:
    assert cache_config(url) == {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                 "LOCATION": url, "KEY_PREFIX": "tongban"}


def test_an_unknown_cache_scheme_is_refused_at_start() -> None:
    with pytest.raises(ImproperlyConfigured, match="TONGBAN_CACHE_URL"):
        cache_config("memcached://127.0.0.1:11211")


def test_uploads_stay_on_the_file_system_without_a_bucket() -> None:
    assert media_storage({}) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_puts_uploads_in_an_s3_compatible_store() -> None:
    config = media_storage({"TONGBAN_S3_BUCKET": "tongban-media",
                            "TONGBAN_S3_ENDPOINT_URL": "https://minio.internal:9000",
                            "TONGBAN_S3_ACCESS_KEY_ID": "id", "TONGBAN_S3_SECRET_ACCESS_KEY": "secret",
                            "TONGBAN_S3_PREFIX": "/uploads/"})
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    assert config["OPTIONS"] == {
        "bucket_name": "tongban-media", "endpoint_url": "https://minio.internal:9000",
        "access_key": "id", "secret_key": "secret", "location": "uploads",
        "default_acl": "private", "file_overwrite": False, "querystring_auth": True,
        "addressing_style": "path"}
    with pytest.raises(ImproperlyConfigured):
        media_storage({"TONGBAN_S3_BUCKET": "b", "TONGBAN_S3_ADDRESSING_STYLE": "sideways"})


def test_files_in_an_s3_store_are_encrypted_on_top_of_it() -> None:
    """The encrypted storage wraps whatever "default" is: the store gets only ciphertext."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import Storage, storages

    from tongban.core.encrypted import EncryptedStorage

    saved: dict[str, bytes] = {}

    class Bucket(Storage):  # what S3Storage does, in memory
        def _save(self, name: str, content: ContentFile) -> str:
            saved[name] = content.read()
            return name

        def exists(self, name: str) -> bool:
            return name in saved

        def _open(self, name: str, mode: str = "rb") -> ContentFile:
            return ContentFile(saved[name], name=name)

    storages._storages["bucket"] = Bucket()  # type: ignore[attr-defined]
    try:
        encrypted = EncryptedStorage("bucket")
        name = encrypted.save("materials/a.pdf", ContentFile(b"%PDF-1.4 personal data"))
        assert b"personal data" not in saved[name]
        assert encrypted.open(name).read() == b"%PDF-1.4 personal data"
    finally:
        del storages._storages["bucket"]  # type: ignore[attr-defined]


def test_the_metrics_networks_are_read_at_start() -> None:
    assert metrics_networks(" 10.0.0.0/8, 192.168.1.7 ,::1/128,") == ["10.0.0.0/8", "192.168.1.7",
                                                                       "::1/128"]
    for bad in ("10.0.0.0/33", "localhost", "10.0.0.0/8,10.1.x.0/24"):
        with pytest.raises(ImproperlyConfigured, match="TONGBAN_METRICS_NETWORKS") as caught:
            metrics_networks(bad)
        assert repr(bad.split(",")[-1]) in str(caught.value)


def test_a_bad_metrics_network_stops_the_process_at_start() -> None:
    """Not a 500 at the first scrape: the settings refuse to load, naming the variable."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TONGBAN_DEBUG": "1", "TONGBAN_METRICS_NETWORKS": "10.0.0.0/8,intranet",
           "DJANGO_SETTINGS_MODULE": "tongban.settings"}
    run = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "TONGBAN_METRICS_NETWORKS: 'intranet' is not a network" in run.stderr
