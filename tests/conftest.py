"""Shared fixtures: a loopback HTTP server, the genuine data in ../shared/data and a tiny SOT data set."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):  # noqa: N802 - http.server API
        if self.path.startswith("/truncated/"):
            body = (Path(self.directory) / self.path.split("/", 2)[2]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture()
def http_root(tmp_path):
    """(folder served, base URL) of a loopback HTTP server; /truncated/<f> lies about its length."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def fsdd_tarball() -> Path:
    path = SHARED_DATA / "fsdd-recordings-26eb9aa.tar.gz"
    if not path.is_file():
        pytest.skip(f"genuine FSDD tarball not present at {path}")
    return path


@pytest.fixture(scope="session")
def mnist_folder() -> Path:
    path = SHARED_DATA / "mnist"
    if not (path / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"genuine MNIST test set not present in {path}")
    return path


@pytest.fixture(scope="module")
def sot_files(tmp_path_factory) -> dict[str, str]:
    """A tiny SOT data set (2 shards of 8 six-frame trials per split on the built-in grass
    background): ``{"train": index, "val": index}``."""
    from glifbench.data.backgrounds import builtin_image
    from glifbench.data.sot_store import shard_seed, write_index, write_shard

    root = tmp_path_factory.mktemp("sot")
    stack = builtin_image("grass")[None]
    files = {}
    for split in ("train", "val"):
        shards = [write_shard(root / f"{split}{k}.npz", stack, 8, shard_seed(0, split, k), {"n_frames": 6})
                  for k in range(2)]  # fmt: skip
        write_index(root / f"{split}.json", shards, split)
        files[split] = str(root / f"{split}.json")
    return files
