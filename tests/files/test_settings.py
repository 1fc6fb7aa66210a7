"""The storage settings: validated at start-up, the S3 secret never shown."""

from __future__ import annotations

import pytest

from aerodrome.settings import SettingsError, load_settings


def test_s3_needs_a_bucket_and_hides_its_secret() -> None:
    with pytest.raises(SettingsError, match="storage_backend 's3' needs s3_bucket"):
        load_settings(storage_backend="s3")
    with pytest.raises(SettingsError, match="storage_backend"):
        load_settings(storage_backend="tape")
    with pytest.raises(SettingsError, match="max_file_size"):
        load_settings(max_file_size=0)
    shown = load_settings(
        storage_backend="s3", s3_bucket="files", s3_access_key="AKIA", s3_secret_key="hush"
    ).masked()
    assert shown["s3_secret_key"] == "********"
    assert shown["s3_access_key"] == "AKIA"
    assert "hush" not in str(shown)
