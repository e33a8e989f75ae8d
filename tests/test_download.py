"""Downloads against a local HTTP server (127.0.0.1 only): checksums, resume, dropped connections, extraction."""
import gzip
import hashlib
import http.server
import io
import re
import tarfile
import threading

import numpy as np
import pytest

from minicnn.data import MNIST
from minicnn.data.download import (ChecksumError, DownloadError, download_from_mirrors, download_url,
                                   extract_archive)

PAYLOAD = gzip.compress(np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes())


class FileServer(http.server.ThreadingHTTPServer):
    """Serves ``files`` by path. /norange/... ignores Range; /drop/... closes halfway the first time."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), RangeHandler)
        self.files = {}
        self.requests = []  # (path, Range header or None, bytes sent)
        self.dropped = set()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class RangeHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        name = self.path.rsplit("/", 1)[-1]
        if name not in server.files:
            self.send_error(404)
            server.requests.append((self.path, None, 0))
            return
        body = server.files[name]
        requested = self.headers.get("Range")
        match = re.fullmatch(r"bytes=(\d+)-", requested or "")
        start = int(match.group(1)) if match and not self.path.startswith("/norange/") else 0
        if start >= len(body) and start:
            self.send_response(416)
            self.end_headers()
            server.requests.append((self.path, requested, 0))
            return
        part = body[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        if self.path.startswith("/drop/") and self.path not in server.dropped:
            server.dropped.add(self.path)
            part = part[: len(part) // 2]
        server.requests.append((self.path, requested, len(part)))  # before writing: the client may finish first
        self.wfile.write(part)


@pytest.fixture
def server():
    server = FileServer()
    server.files["data.gz"] = PAYLOAD
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_download_verifies_and_renames_atomically(server, tmp_path):
    path = download_url(f"{server.url}/files/data.gz", tmp_path, md5=md5(PAYLOAD), progress=False)
    assert path == tmp_path / "data.gz" and path.read_bytes() == PAYLOAD
    assert not (tmp_path / "data.gz.part").exists()
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    assert download_url(f"{server.url}/files/data.gz", tmp_path, sha256=sha, progress=False) == path
    assert len(server.requests) == 1  # a verified file already present is not fetched again


def test_checksum_mismatch_deletes_the_file_and_says_so(server, tmp_path):
    with pytest.raises(ChecksumError, match="expected 0+1"):
        download_url(f"{server.url}/files/data.gz", tmp_path, md5="0" * 31 + "1", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_partial_file_is_resumed_with_a_range_request(server, tmp_path):
    (tmp_path / "data.gz.part").write_bytes(PAYLOAD[:123_456])
    path = download_url(f"{server.url}/files/data.gz", tmp_path, md5=md5(PAYLOAD), progress=False)
    assert path.read_bytes() == PAYLOAD
    assert server.requests == [("/files/data.gz", "bytes=123456-", len(PAYLOAD) - 123_456)]


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    (tmp_path / "data.gz.part").write_bytes(b"stale bytes")
    path = download_url(f"{server.url}/norange/data.gz", tmp_path, md5=md5(PAYLOAD), progress=False)
    assert path.read_bytes() == PAYLOAD and server.requests[0][2] == len(PAYLOAD)


def test_complete_part_file_is_accepted_after_416(server, tmp_path):
    (tmp_path / "data.gz.part").write_bytes(PAYLOAD)
    assert download_url(f"{server.url}/files/data.gz", tmp_path, md5=md5(PAYLOAD), progress=False).exists()


def test_dropped_connection_keeps_the_part_file_and_the_next_call_resumes(server, tmp_path):
    url = f"{server.url}/drop/data.gz"
    with pytest.raises(DownloadError, match="kept"):
        download_url(url, tmp_path, md5=md5(PAYLOAD), progress=False)
    part = tmp_path / "data.gz.part"
    assert part.stat().st_size == len(PAYLOAD) // 2 and not (tmp_path / "data.gz").exists()
    assert download_url(url, tmp_path, md5=md5(PAYLOAD), progress=False).read_bytes() == PAYLOAD
    assert server.requests[-1] == ("/drop/data.gz", f"bytes={len(PAYLOAD) // 2}-", len(PAYLOAD) - len(PAYLOAD) // 2)


def test_mirrors_are_tried_in_turn_and_all_failures_reported(server, tmp_path):
    good = download_from_mirrors([f"{server.url}/files/missing.gz", f"{server.url}/files/data.gz"], tmp_path,
                                 "data.gz", md5=md5(PAYLOAD), progress=False)
    assert good.read_bytes() == PAYLOAD
    with pytest.raises(DownloadError, match="404"):
        download_from_mirrors([f"{server.url}/files/missing.gz"], tmp_path, progress=False)


def test_mnist_download_fetches_the_split_from_a_mirror(server, tmp_path, monkeypatch):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    files = {"t10k-images-idx3-ubyte.gz": bytes([0, 0, 8, 3]) + np.array([2, 28, 28], ">i4").tobytes()
             + images.tobytes(),
             "t10k-labels-idx1-ubyte.gz": bytes([0, 0, 8, 1]) + np.array([2], ">i4").tobytes() + bytes([5, 6])}
    files = {name: gzip.compress(data) for name, data in files.items()}
    server.files.update(files)
    monkeypatch.setattr(MNIST, "mirrors", [f"{server.url}/gone/", f"{server.url}/mnist/"])
    monkeypatch.setattr(MNIST, "resources", {name: md5(data) for name, data in files.items()})
    ds = MNIST(tmp_path, train=False, download=True)
    assert len(ds) == 2 and list(ds.targets) == [5, 6] and np.array_equal(ds.data[1, ..., 0], images[1])


def make_tar(path, members):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_extract_tar_gz_and_gz(tmp_path):
    make_tar(tmp_path / "ok.tar.gz", [("batches/a.bin", b"abc"), ("batches/b.bin", b"de")])
    out = extract_archive(tmp_path / "ok.tar.gz", tmp_path / "out")
    assert (out / "batches" / "a.bin").read_bytes() == b"abc"
    (tmp_path / "one.bin.gz").write_bytes(gzip.compress(b"xyz"))
    assert extract_archive(tmp_path / "one.bin.gz").read_bytes() == b"xyz"


@pytest.mark.parametrize("name", ["../escape.bin", "/tmp/absolute.bin", "inner/../../escape.bin"])
def test_extraction_refuses_path_traversal(tmp_path, name):
    make_tar(tmp_path / "bad.tar.gz", [("fine.bin", b"1"), (name, b"2")])
    with pytest.raises(ValueError, match="unsafe path"):
        extract_archive(tmp_path / "bad.tar.gz", tmp_path / "out")
    assert not (tmp_path / "escape.bin").exists() and not (tmp_path / "out" / "fine.bin").exists()


def test_extraction_refuses_links(tmp_path):
    with tarfile.open(tmp_path / "link.tar", "w") as archive:
        info = tarfile.TarInfo("passwd")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(info)
    with pytest.raises(ValueError, match="links"):
        extract_archive(tmp_path / "link.tar", tmp_path / "out")
