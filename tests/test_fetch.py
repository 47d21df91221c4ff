import hashlib

import pytest

from glifbench.data.fetch import DataError, fetch, file_digest


def _served(root, name: str, payload: bytes) -> str:
    (root / name).write_bytes(payload)
    return hashlib.md5(payload).hexdigest()


def test_download_verifies_and_writes(http_root, tmp_path):
    root, url = http_root
    md5 = _served(root, "blob.bin", b"x" * 300_000)
    dest = fetch(f"{url}/blob.bin", tmp_path / "out" / "blob.bin", md5)
    assert file_digest(dest, "md5") == md5
    assert [p.name for p in dest.parent.iterdir()] == ["blob.bin"]


def test_wrong_checksum_leaves_nothing(http_root, tmp_path):
    root, url = http_root
    _served(root, "blob.bin", b"payload")
    dest = tmp_path / "out" / "blob.bin"
    with pytest.raises(DataError, match="checksum mismatch.*blob.bin"):
        fetch(f"{url}/blob.bin", dest, "0" * 32)
    assert list(dest.parent.iterdir()) == []


def test_truncated_download_is_an_error(http_root, tmp_path):
    root, url = http_root
    _served(root, "blob.bin", b"y" * 10_000)
    dest = tmp_path / "out" / "blob.bin"
    with pytest.raises(DataError, match="truncated|download failed"):
        fetch(f"{url}/truncated/blob.bin", dest, None)
    assert list(dest.parent.iterdir()) == []


def test_missing_url_names_it(http_root, tmp_path):
    _, url = http_root
    with pytest.raises(DataError, match="nothere.zip"):
        fetch(f"{url}/nothere.zip", tmp_path / "nothere.zip", None)
    assert not (tmp_path / "nothere.zip").exists()


def test_mirror_file_and_folder(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    md5 = _served(mirror, "data.gz", b"mirror bytes")
    url = "https://unreachable.invalid/path/data.gz"
    assert fetch(url, tmp_path / "a.gz", md5, mirror=mirror).read_bytes() == b"mirror bytes"
    assert fetch(url, tmp_path / "b.gz", md5, mirror=mirror / "data.gz").is_file()


def test_missing_mirror_is_an_error_not_a_fallback(tmp_path):
    with pytest.raises(DataError, match="mirror file not found.*nowhere"):
        fetch("https://unreachable.invalid/data.gz", tmp_path / "d.gz", None, mirror=tmp_path / "nowhere")
    assert not (tmp_path / "d.gz").exists()
