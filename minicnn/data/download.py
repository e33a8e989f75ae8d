"""Downloading dataset files: resumable, verified, atomic; and extracting archives safely.

``download_url`` streams into ``<name>.part`` with a progress bar. If a ``.part`` file is left from an
interrupted attempt, it asks the server for the remaining bytes only (an HTTP Range request) and
appends them; a server that ignores Range gets a full restart. When the last byte has arrived the
checksum (md5 or sha256) is checked: a mismatch deletes the file and raises ``ChecksumError``; a
match renames ``.part`` to the final name in one ``os.replace``, so a file under its final name is
always complete. A transfer cut short raises ``DownloadError`` and keeps the ``.part`` file for the
next attempt. Only ``urllib`` from the standard library is used.
"""
from __future__ import annotations

import gzip
import zlib
import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

__all__ = ["DownloadError", "ChecksumError", "default_data_dir", "download_url", "download_from_mirrors",
           "file_checksum", "extract_archive"]

CHUNK_SIZE = 1 << 20


class DownloadError(OSError):
    """A transfer failed (network error, server error, or a connection that closed early)."""


class ChecksumError(ValueError):
    """A downloaded file does not have the published checksum."""


def default_data_dir() -> Path:
    """Where datasets are kept: ``$MINICNN_DATA`` if set, else ``~/.cache/minicnn``."""
    return Path(os.environ.get("MINICNN_DATA") or Path.home() / ".cache" / "minicnn")


def file_checksum(path, algorithm: str = "md5") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def _expected_digest(md5, sha256):
    if sha256:
        return "sha256", sha256.lower()
    if md5:
        return "md5", md5.lower()
    return None, None


def _verify(path: Path, md5, sha256, url: str) -> None:
    algorithm, expected = _expected_digest(md5, sha256)
    if algorithm is None:
        return
    actual = file_checksum(path, algorithm)
    if actual != expected:
        path.unlink(missing_ok=True)
        raise ChecksumError(f"download_url: {url} gave a file whose {algorithm} is {actual}, expected "
                            f"{expected}; the file was deleted")


def _progress_bar(total, initial, name, enabled):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=name,
                leave=False)


def _open(url: str, offset: int, timeout: float):
    request = urllib.request.Request(url, headers={"User-Agent": "minicnn"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    return urllib.request.urlopen(request, timeout=timeout)


def _transfer(url: str, part: Path, timeout: float, progress: bool) -> None:
    """Bring ``part`` up to the full file, resuming from its current size when the server allows."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, offset, timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            return  # the .part file already holds every byte; the checksum decides
        raise DownloadError(f"download_url: {url} answered HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(f"download_url: cannot reach {url}: {error}") from error
    with response:
        if offset and response.status != 206:
            offset = 0  # the server ignored Range and sends the whole file: start over
        length = response.headers.get("Content-Length")
        expected = int(length) if length is not None else None
        total = offset + expected if expected is not None else None
        received = 0
        bar = _progress_bar(total, offset, part.name[:-len(".part")], progress)
        try:
            with open(part, "ab" if offset else "wb") as out:
                while True:
                    try:
                        chunk = response.read(CHUNK_SIZE)
                    except (OSError, ValueError) as error:  # reset connection, IncompleteRead, timeout
                        raise DownloadError(
                            f"download_url: connection to {url} failed after {offset + received} bytes "
                            f"({error}); the partial file {part} is kept and the next call resumes") from error
                    if not chunk:
                        break
                    out.write(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    if expected is not None and received < expected:
        raise DownloadError(f"download_url: connection to {url} closed after {offset + received} of {total} "
                            f"bytes; the partial file {part} is kept and the next call resumes")


def download_url(url: str, root=None, filename: str | None = None, md5: str | None = None,
                 sha256: str | None = None, progress: bool = True, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``root/filename`` (root defaults to ``default_data_dir()``) and return its path.

    A file already there with the right checksum is not downloaded again.
    """
    root = Path(root) if root is not None else default_data_dir()
    filename = filename or PurePosixPath(urllib.request.urlparse(url).path).name
    if not filename:
        raise ValueError(f"download_url: cannot tell a file name from {url!r}; pass filename=")
    root.mkdir(parents=True, exist_ok=True)
    destination = root / filename
    if destination.exists():
        algorithm, expected = _expected_digest(md5, sha256)
        if algorithm is None or file_checksum(destination, algorithm) == expected:
            return destination
        destination.unlink()
    part = root / (filename + ".part")
    _transfer(url, part, timeout, progress)
    _verify(part, md5, sha256, url)
    os.replace(part, destination)
    return destination


def download_from_mirrors(urls, root=None, filename=None, md5=None, sha256=None, progress=True,
                          timeout: float = 30.0) -> Path:
    """Try each URL in turn; raise ``DownloadError`` listing every failure if none works."""
    failures = []
    for url in urls:
        try:
            return download_url(url, root, filename, md5=md5, sha256=sha256, progress=progress, timeout=timeout)
        except (DownloadError, ChecksumError) as error:
            failures.append(str(error))
    raise DownloadError("every mirror failed:\n  " + "\n  ".join(failures))


def _check_member(member: tarfile.TarInfo, archive: Path) -> None:
    """Refuse members that could write outside the destination: absolute paths, '..', links, devices."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or member.name.startswith(("/", "\\")) or ".." in name.parts or ":" in member.name:
        raise ValueError(f"extract_archive: {archive} holds a member with an unsafe path {member.name!r}")
    if not (member.isfile() or member.isdir()):
        raise ValueError(f"extract_archive: {archive} holds {member.name!r}, which is not a regular file "
                         "or directory (links and devices are refused)")


def extract_archive(path, destination=None) -> Path:
    """Extract a .tar, .tar.gz/.tgz (every member checked first) or a single-file .gz; return the target.

    For a tar archive the return value is the destination directory; for a .gz, the unpacked file.
    """
    path = Path(path)
    destination = Path(destination) if destination is not None else path.parent
    destination.mkdir(parents=True, exist_ok=True)
    name = path.name.lower()
    damaged = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)
    if name.endswith((".tar", ".tar.gz", ".tgz")):
        try:
            with tarfile.open(path, "r:*") as archive:
                members = archive.getmembers()
                for member in members:
                    _check_member(member, path)
                # The stdlib's own "data" filter (Python >= 3.10.12 / 3.11.4) is a second line of defence.
                safety = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                archive.extractall(destination, members=members, **safety)
        except damaged as error:
            raise ValueError(f"extract_archive: {path} is a damaged archive ({type(error).__name__}: {error})") from None
        return destination
    if name.endswith(".gz"):
        target = destination / path.name[:-3]
        partial = target.with_name(target.name + ".part")
        try:
            with gzip.open(path, "rb") as source, open(partial, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK_SIZE)
        except damaged as error:
            partial.unlink(missing_ok=True)
            raise ValueError(f"extract_archive: {path} is a damaged gzip file ({type(error).__name__}: {error})") from None
        os.replace(partial, target)
        return target
    raise ValueError(f"extract_archive: unsupported archive type {path.name!r} (expected .tar, .tar.gz, .tgz, .gz)")
