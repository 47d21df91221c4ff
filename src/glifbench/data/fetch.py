"""Download or copy a dataset file, verify its checksum, and write it atomically.

A source is a URL plus an optional local *mirror*: a file, or a folder holding a file of the
same name. When a mirror is given it is used instead of the network; it is an error if it
does not exist (never a silent fall-back to something else).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path
from collections.abc import Callable
from typing import IO

from glifbench.errors import DataError
from glifbench.io import atomic_path

__all__ = ["DataError", "fetch", "file_digest", "resolve_mirror"]

CHUNK = 1 << 20


def file_digest(path: str | os.PathLike, algorithm: str) -> str:
    """Hex digest of a file (``algorithm`` is any :mod:`hashlib` name, e.g. md5, sha256)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy_stream(src: IO[bytes], dst: IO[bytes], algorithm: str) -> tuple[str, int]:
    digest = hashlib.new(algorithm)
    size = 0
    for block in iter(lambda: src.read(CHUNK), b""):
        digest.update(block)
        dst.write(block)
        size += len(block)
    return digest.hexdigest(), size


def resolve_mirror(mirror: str | os.PathLike, filename: str) -> Path:
    """The mirror file for ``filename``: ``mirror`` itself, or ``mirror/filename`` if a folder."""
    path = Path(mirror).expanduser()
    if path.is_dir():
        path = path / filename
    if not path.is_file():
        raise DataError(f"mirror file not found: {path} (set the mirror key to null to download)")
    return path


def fetch(
    url: str,
    dest: str | os.PathLike,
    checksum: str | None,
    algorithm: str = "md5",
    mirror: str | os.PathLike | None = None,
    timeout: float = 60.0,
    verify: Callable[[Path], object] | None = None,
) -> Path:
    """Fetch ``url`` (or its ``mirror``) to ``dest`` and verify ``checksum`` and ``verify``.

    The file is streamed into a temporary name beside ``dest`` and renamed only after the
    checksum matched and ``verify(temporary file)`` returned without raising, so a failed,
    interrupted or wrong fetch never leaves a plausible ``dest``. ``checksum=None`` is for
    sources that are not byte-stable (GitHub archives): pass a content check as ``verify``.
    """
    dest = Path(dest)
    filename = url.rstrip("/").rsplit("/", 1)[-1]
    source = str(resolve_mirror(mirror, filename)) if mirror else url
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as out:
            if mirror:
                with open(source, "rb") as src:
                    got, size = _copy_stream(src, out, algorithm)
            else:
                try:
                    with urllib.request.urlopen(url, timeout=timeout) as response:
                        expected_len = response.headers.get("Content-Length")
                        got, size = _copy_stream(response, out, algorithm)
                except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
                    raise DataError(f"download failed: {url}: {err}") from err
                if expected_len is not None and int(expected_len) != size:
                    raise DataError(
                        f"truncated download: {url}: got {size} of {expected_len} bytes"
                    )
        if checksum is not None and got.lower() != checksum.lower():
            raise DataError(
                f"checksum mismatch for {source}: {algorithm} is {got}, expected {checksum}"
            )
        if verify is not None:
            verify(tmp)
    return dest
