"""``save(obj, path)`` / ``load(path)``: checkpoints that never run code when read.

A checkpoint is a NumPy ``.npz`` archive. Every array in ``obj`` becomes one member (``a0``, ``a1``,
...), and one more member, ``__structure__``, holds a JSON document (as uint8 bytes) that describes
how they fit together: nested dicts (any order, int/str/... keys), lists, tuples, Tensors, numbers,
strings, bools and None. Reading uses ``np.load(allow_pickle=False)`` and ``json``: no pickle, so a
hostile file can at worst be refused, never execute anything.

Writing is atomic: the archive goes to a temporary file in the same directory, is flushed and
fsync'ed, then renamed over ``path``. A crash in the middle leaves the previous checkpoint intact.
The temporary file is named ``.<name>.<pid>-<random>.tmp``: a save that was killed leaves one behind,
and the next save to the same path removes it once no process of that pid is running.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from collections import OrderedDict

import numpy as np

from . import backend
from .autograd import Tensor

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "minicnn-checkpoint"
VERSION = 1
STRUCTURE_MEMBER = "__structure__"
_SCALAR_KEY_TYPES = (str, int, float, bool, type(None))


class CheckpointError(ValueError):
    """A file is not a readable minicnn checkpoint (corrupt, truncated, not an npz, or contains pickles)."""


# ----------------------------------------------------------------------------------------------
# Encoding: python object -> JSON-able structure + list of host arrays
# ----------------------------------------------------------------------------------------------

def _encode(value, arrays: list, where: str):
    """The JSON description of ``value``; arrays are appended to ``arrays`` and referred to by index.

    Plain JSON scalars (str, int, float, bool, None) stand for themselves; everything else is a
    one-key object such as ``{"dict": [[key, value], ...]}`` or ``{"array": 3}``.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):  # includes bool, handled above
        return value
    if isinstance(value, Tensor):
        index = _add_array(backend.to_host(value.array), arrays, where)
        return {"tensor": index, "requires_grad": bool(value.requires_grad)}
    if isinstance(value, np.generic):
        return {"scalar": _add_array(np.asarray(value), arrays, where)}
    if isinstance(value, np.ndarray) or (hasattr(value, "shape") and hasattr(value, "dtype") and hasattr(value, "get")):
        return {"array": _add_array(backend.to_host(value), arrays, where)}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            items.append([_encode_key(key, where), _encode(item, arrays, f"{where}[{key!r}]")])
        return {"odict" if isinstance(value, OrderedDict) else "dict": items}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_encode(item, arrays, f"{where}[{position}]") for position, item in enumerate(value)]}
    raise TypeError(f"minicnn.save: cannot save {where} of type {type(value).__name__}; supported are dicts, "
                    "lists, tuples, arrays, Tensors, numbers, strings, bools and None")


def _encode_key(key, where: str):
    if isinstance(key, _SCALAR_KEY_TYPES):
        return key if isinstance(key, str) else {"key": key}
    if isinstance(key, np.integer):
        return {"key": int(key)}
    if isinstance(key, tuple) and all(isinstance(part, _SCALAR_KEY_TYPES) for part in key):
        return {"tuple_key": list(key)}
    raise TypeError(f"minicnn.save: cannot save a dict key of type {type(key).__name__} in {where}")


def _add_array(array: np.ndarray, arrays: list, where: str) -> int:
    if array.dtype.hasobject:
        raise TypeError(f"minicnn.save: {where} is an object array, which could only be stored by pickling")
    arrays.append(array)
    return len(arrays) - 1


# ----------------------------------------------------------------------------------------------
# Decoding: JSON structure + arrays -> python object
# ----------------------------------------------------------------------------------------------

def _decode(node, archive, device: str, path):
    if node is None or isinstance(node, (bool, str, int, float)):
        return node
    if isinstance(node, list) or not isinstance(node, dict) or len(node) not in (1, 2):
        raise CheckpointError(f"{path}: malformed structure entry {str(node)[:80]!r}")
    if "tensor" in node:
        array = backend.to_device(_member(archive, node["tensor"], path), device)
        return Tensor(array, requires_grad=bool(node.get("requires_grad", False)))
    (kind, body), = node.items()
    if kind == "array":  # a bare array is handed back as a Tensor too (as torch.load gives tensors)
        return Tensor(backend.to_device(_member(archive, body, path), device))
    if kind == "scalar":
        return _member(archive, body, path)[()]
    if kind in ("dict", "odict"):
        result = OrderedDict() if kind == "odict" else {}
        for key, item in body:
            result[_decode_key(key, path)] = _decode(item, archive, device, path)
        return result
    if kind == "list":
        return [_decode(item, archive, device, path) for item in body]
    if kind == "tuple":
        return tuple(_decode(item, archive, device, path) for item in body)
    raise CheckpointError(f"{path}: unknown structure entry kind {kind!r}")


def _decode_key(key, path):
    if isinstance(key, str):
        return key
    if isinstance(key, dict) and "key" in key:
        return key["key"]
    if isinstance(key, dict) and "tuple_key" in key:
        return tuple(key["tuple_key"])
    raise CheckpointError(f"{path}: malformed dict key {key!r}")


def _member(archive, index, path) -> np.ndarray:
    name = f"a{index}"
    if name not in archive.files:
        raise CheckpointError(f"{path}: the structure refers to array {name!r}, which the file does not contain")
    return _read_member(archive, name, path)


def _read_member(archive, name: str, path) -> np.ndarray:
    try:
        return archive[name]
    except Exception as error:  # anything numpy or zipfile raises on a damaged member
        if isinstance(error, ValueError) and "pickle" in str(error):  # numpy refuses object arrays
            raise CheckpointError(f"{path}: member {name!r} holds pickled Python objects, which minicnn.load "
                                  "never unpickles") from None
        raise CheckpointError(f"{path}: member {name!r} is corrupt or truncated "
                              f"({type(error).__name__}: {error})") from None


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------

def save(obj, path) -> None:
    """Write ``obj`` (e.g. ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``)
    to ``path`` atomically. Arrays and Tensors of any device are stored as host arrays."""
    arrays: list = []
    structure = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays, "obj")}
    members = {f"a{index}": array for index, array in enumerate(arrays)}
    members[STRUCTURE_MEMBER] = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    _remove_stale_temporaries(directory, os.path.basename(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.{os.getpid()}-", suffix=".tmp",
                                         dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **members)
            file.flush()
            os.fsync(file.fileno())
            os.chmod(temporary, 0o666 & ~_current_umask())  # mkstemp made it 0600; give it a normal file's mode
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _remove_stale_temporaries(directory: str, name: str) -> None:
    """Delete the temporary files that killed saves of ``name`` left in ``directory``: those whose
    process no longer runs (or that carry no pid). A save still running elsewhere keeps its file."""
    prefix = f".{name}."
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        owner = re.match(r"(\d+)-", entry[len(prefix):])
        if owner is not None and _process_running(int(owner.group(1))):
            continue
        try:
            os.unlink(os.path.join(directory, entry))
        except OSError:
            pass  # removed meanwhile by another save, or not ours to remove


def _process_running(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be saving to the same path
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError, ValueError):  # no such process, or no such pid at all
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or cannot tell: keep the file)
    return True


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); harmless to skip where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def load(path, map_location=None):
    """Read a checkpoint written by ``save``. Tensors and arrays both come back as Tensors, on the host
    (``map_location`` None or "cpu") or on the device ``map_location`` names.

    Raises ``CheckpointError`` (a ValueError) naming the file when it is not a readable checkpoint.
    """
    path = os.fspath(path)
    device = backend.normalize_device(map_location)
    with open(path, "rb") as file:
        head = file.read(4)
        if head[:1] == b"\x80" or head[:1] in (b"(", b"]", b"}"):
            raise CheckpointError(f"{path}: this is a pickle file (e.g. written by torch.save or pickle.dump); "
                                  "minicnn.load reads only minicnn checkpoints and never unpickles")
        if head != b"PK\x03\x04":
            reason = "the file is empty" if not head else "it does not start with the npz (zip) signature"
            raise CheckpointError(f"{path}: not a minicnn checkpoint: {reason}")
        file.seek(0)
        try:
            archive = np.load(file, allow_pickle=False)
        except Exception as error:  # zipfile.BadZipFile, OSError, EOFError, ValueError...
            raise CheckpointError(f"{path}: corrupt or truncated checkpoint "
                                  f"({type(error).__name__}: {error})") from None
        with archive:
            if STRUCTURE_MEMBER not in archive.files:
                raise CheckpointError(f"{path}: not a minicnn checkpoint (no {STRUCTURE_MEMBER!r} member; "
                                      f"members are {archive.files[:5]})")
            raw = _member_named(archive, STRUCTURE_MEMBER, path)
            try:
                structure = json.loads(raw.tobytes().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
                raise CheckpointError(f"{path}: the structure document is corrupt ({error})") from None
            if not isinstance(structure, dict) or structure.get("format") != FORMAT or "root" not in structure:
                raise CheckpointError(f"{path}: not a minicnn checkpoint (unrecognized structure document)")
            version = structure.get("version")
            if not isinstance(version, int) or version > VERSION:
                raise CheckpointError(f"{path}: checkpoint format version {version!r} is not one this "
                                      f"minicnn understands ({VERSION})")
            try:
                return _decode(structure["root"], archive, device, path)
            except (RecursionError, TypeError, ValueError) as error:
                if isinstance(error, CheckpointError):
                    raise
                raise CheckpointError(f"{path}: malformed structure document "
                                      f"({type(error).__name__}: {error})") from None


def _member_named(archive, name: str, path) -> np.ndarray:
    array = _read_member(archive, name, path)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise CheckpointError(f"{path}: {name!r} should be a 1-D uint8 array, got {array.dtype} {array.shape}")
    return array
