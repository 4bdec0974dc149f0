"""Dependency-free checkpoints of optimizer and plateau states (a single ``.npz`` file).

Format ``jaxsched-state-v2``: an uncompressed zip (what ``np.savez`` writes) holding

* ``__manifest__.npy``: UTF-8 JSON ``{"format", "treedef", "leaves": [{"path", "dtype", "shape", "sha256"}, ...]}``
  stored as a uint8 vector; ``treedef`` is ``str(jax.tree.structure(state))``, each ``path`` a
  ``jax.tree_util.keystr``;
* ``leaf_<i>.npy``: the raw bytes of leaf ``i`` as a uint8 vector, so every numeric dtype (bool, int8-int64,
  uint8-uint64, float16, bfloat16, float32, float64, complex64, complex128) round-trips bit for bit.

Loading checks the file against the state the caller expects (``like``: arrays or ``jax.ShapeDtypeStruct``):
the same leaf paths, shapes and dtypes, and the same tree structure, so an ``AdamState`` never loads as a
``RAdamState`` even though their leaf paths agree.

Files of the previous format ``jaxsched-state-v1`` still load. They were written while every optimizer kept
its state in a tuple of chain slots (``.inner_state[0].exp_avg``, ``.inner_state[0][1].momentum_buffer``),
so their paths, and the expected ones, are compared with the index run right after ``.inner_state``
removed; v1 leaves that land on the same path must hold identical bytes, every v1 leaf must find its
place, and the v1 treedef (older classes) is not compared.

Safety:

* atomic: a save writes a uniquely named temporary file in the target's folder, fsyncs it, renames it over
  the target with ``os.replace`` and fsyncs the folder; a failed save removes its temporary file and leaves
  the previous checkpoint as it was.
* symlink-safe and concurrent-safe: the temporary file is created with ``O_EXCL`` under a random name, so a
  symlink planted there is never followed, and concurrent saves to one path each complete their own file
  (the last rename wins; a reader sees one whole checkpoint or another).
* bounded reads: only the members the manifest names are read (any other member is an error), the
  manifest is at most 64 MiB, and each leaf's size in the zip directory is checked against its dtype and
  shape, and against ``like``, before a byte of it is read.
* x64: a 64-bit leaf (int64, uint64, float64, complex128) loads only with ``jax_enable_x64`` on; without
  it JAX would narrow the value to 32 bits, so the load is refused instead.

Every damaged, foreign or mismatched file raises :class:`CheckpointError` (a ``ValueError``) naming what is
wrong. Orbax works too: states are ordinary pytrees of arrays.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import math
import os
import re
import secrets
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched.core._base import PyTree

_FORMAT = "jaxsched-state-v2"
_FORMAT_V1 = "jaxsched-state-v1"
_MANIFEST = "__manifest__"
_MAX_MANIFEST_BYTES = 64 * 2**20
# Magic string, version and header length, plus numpy's own limit on the header it will parse.
_MAX_NPY_OVERHEAD = 12 + 10_000
_LEAF_KEYS = frozenset({"path", "dtype", "shape", "sha256"})
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DTYPES = {
    np.dtype(kind).name: np.dtype(kind)
    for kind in (
        np.bool_,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.uint16,
        np.uint32,
        np.uint64,
        np.float16,
        jnp.bfloat16,
        np.float32,
        np.float64,
        np.complex64,
        np.complex128,
    )
}
# v1 states nested the optimizer's state in a tuple of chain slots: `.inner_state[0][1].x` is v2's `.inner_state.x`.
_CHAIN_SLOTS = re.compile(r"(?<=\.inner_state)(?:\[\d+\])+")


class CheckpointError(ValueError):
    """A checkpoint file is corrupt or does not match the expected state."""


class _Leaf(NamedTuple):
    path: str
    shape: tuple[int, ...]
    dtype: np.dtype


def _storable_leaves(state: PyTree) -> Iterator[tuple[str, np.ndarray]]:
    for key_path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]:
        value = np.asarray(leaf)
        dtype = _DTYPES.get(value.dtype.name)
        if dtype is None:
            raise TypeError(
                f"save_state: leaf {jax.tree_util.keystr(key_path)} has dtype {value.dtype}; a checkpoint stores "
                f"{', '.join(_DTYPES)}"
            )
        # Converting to the allow-listed (native byte order) dtype makes the stored bytes mean what the name says.
        yield jax.tree_util.keystr(key_path), np.asarray(value, dtype=dtype, order="C")


def _expected_leaves(like: PyTree) -> list[_Leaf]:
    leaves = []
    for key_path, leaf in jax.tree_util.tree_flatten_with_path(like)[0]:
        # Arrays and jax.ShapeDtypeStruct describe themselves; anything else (Python scalars) as numpy sees it.
        template = leaf if hasattr(leaf, "shape") and hasattr(leaf, "dtype") else np.asarray(leaf)
        leaves.append(_Leaf(jax.tree_util.keystr(key_path), tuple(template.shape), np.dtype(template.dtype)))
    return leaves


def _fsync_folder(folder: str) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # Windows cannot open a folder to fsync it
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def save_state(path: str | os.PathLike, state: PyTree) -> None:
    """Write ``state`` (any pytree of numeric arrays: optimizer, plateau, params) to ``path`` (``.npz``).

    The file appears under ``path`` only complete and on disk (see the module docstring), so neither a crash
    nor a concurrent save leaves a half-written checkpoint there.

    Args:
        path: the checkpoint file; its folder must exist. Any file or symlink at ``path`` is replaced.
        state: the pytree to store. Leaves are converted with ``np.asarray`` and must have a numeric dtype.

    Raises:
        TypeError: a leaf's dtype is not numeric (object, string, ...).

    Example::

        js.save_state("ckpt.npz", {"params": params, "opt": opt_state, "plateau": pstate})
    """
    arrays, manifest = {}, []
    for index, (name, value) in enumerate(_storable_leaves(state)):
        raw = value.reshape(-1).view(np.uint8)
        arrays[f"leaf_{index}"] = raw
        entry = {"path": name, "dtype": value.dtype.name, "shape": list(value.shape)}
        manifest.append({**entry, "sha256": hashlib.sha256(raw.tobytes()).hexdigest()})
    header = {"format": _FORMAT, "treedef": str(jax.tree.structure(state)), "leaves": manifest}
    arrays[_MANIFEST] = np.frombuffer(json.dumps(header).encode(), np.uint8)

    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    # Not tempfile.mkstemp: its files are mode 0600, and a checkpoint should get the umask's permissions.
    temporary = os.path.join(folder, f".{os.path.basename(target)}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    _fsync_folder(folder)  # makes the rename itself survive a power cut


def _read_uint8_member(archive: zipfile.ZipFile, name: str, sizes: range, where: str) -> bytes:
    """The payload of member ``name`` (a uint8 ``.npy`` vector) whose length must lie in ``sizes``.

    Its size in the zip directory is checked first, so a crafted member is never decompressed past it.
    """
    info = archive.getinfo(name)
    allowed = f"{sizes.start}" if len(sizes) == 1 else f"{sizes.start} to {sizes.stop - 1}"
    if not sizes.start <= info.file_size <= sizes.stop - 1 + _MAX_NPY_OVERHEAD:
        raise CheckpointError(
            f"{where}: member {name} is {info.file_size} bytes uncompressed, allowed {allowed} bytes of data "
            f"plus an .npy header of at most {_MAX_NPY_OVERHEAD}"
        )
    try:
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in read_header:
                raise ValueError(f".npy version {version} (allowed 1.0, 2.0)")
            shape, _, dtype = read_header[version](member)
            if dtype != np.uint8 or len(shape) != 1 or shape[0] not in sizes:
                raise ValueError(f"holds {dtype}{list(shape)}, expected a uint8 vector of {allowed} bytes")
            payload = member.read(shape[0] + 1)  # reading to the end makes zipfile check the CRC
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as error:
        raise CheckpointError(f"{where}: member {name} is unreadable ({error})") from None
    if len(payload) != shape[0]:
        raise CheckpointError(
            f"{where}: member {name} holds {len(payload)} bytes after its header, expected {shape[0]}"
        )
    return payload


def _validate_header(header: Any, where: str) -> None:
    if not isinstance(header, dict):
        raise CheckpointError(f"{where}: the manifest is a JSON {type(header).__name__}, expected an object")
    if header.get("format") not in (_FORMAT, _FORMAT_V1):
        raise CheckpointError(f"{where} has format {header.get('format')!r}, expected {_FORMAT!r} or {_FORMAT_V1!r}")
    if set(header) != {"format", "treedef", "leaves"}:
        raise CheckpointError(f"{where}: the manifest has keys {sorted(header)}, expected format, leaves, treedef")
    if not isinstance(header["treedef"], str):
        raise CheckpointError(
            f"{where}: the manifest's treedef is a {type(header['treedef']).__name__}, expected a string"
        )
    if not isinstance(header["leaves"], list):
        raise CheckpointError(f"{where}: the manifest's leaves is a {type(header['leaves']).__name__}, expected a list")
    for index, entry in enumerate(header["leaves"]):
        leaf = f"{where}: manifest leaf {index}"
        if not isinstance(entry, dict) or set(entry) != _LEAF_KEYS:
            raise CheckpointError(f"{leaf} must be an object with exactly the keys {sorted(_LEAF_KEYS)}")
        if not isinstance(entry["path"], str):
            raise CheckpointError(f"{leaf} has path {entry['path']!r}, expected a string")
        if not isinstance(entry["dtype"], str) or entry["dtype"] not in _DTYPES:
            raise CheckpointError(
                f"{leaf} ({entry['path']}) has dtype {entry['dtype']!r}, allowed: {', '.join(_DTYPES)}"
            )
        shape = entry["shape"]
        if not isinstance(shape, list) or not all(type(size) is int and size >= 0 for size in shape):
            raise CheckpointError(f"{leaf} ({entry['path']}) has shape {shape!r}, expected a list of non-negative ints")
        if not isinstance(entry["sha256"], str) or not _SHA256.fullmatch(entry["sha256"]):
            raise CheckpointError(f"{leaf} ({entry['path']}) has sha256 {entry['sha256']!r}, expected 64 hex digits")


@contextlib.contextmanager
def _open_checkpoint(path: str | os.PathLike) -> Iterator[tuple[dict, zipfile.ZipFile]]:
    """The validated manifest and the open archive, whose members are exactly the ones the manifest names."""
    where = os.fspath(path)
    try:
        archive = zipfile.ZipFile(where)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise CheckpointError(f"{where} is not a readable jaxsched checkpoint ({error})") from None
    with archive:
        names = archive.namelist()
        manifest_name = f"{_MANIFEST}.npy"
        if manifest_name not in names:
            raise CheckpointError(f"{where} is not a readable jaxsched checkpoint (it has no {manifest_name})")
        text = _read_uint8_member(archive, manifest_name, range(_MAX_MANIFEST_BYTES + 1), where)
        try:
            header = json.loads(text.decode())
        except (ValueError, RecursionError) as error:  # RecursionError: nesting deeper than the parser's stack
            raise CheckpointError(
                f"{where} is not a readable jaxsched checkpoint (manifest: {type(error).__name__}: {error})"
            ) from None
        _validate_header(header, where)
        expected_names = [manifest_name, *(f"leaf_{index}.npy" for index in range(len(header["leaves"])))]
        problems = []
        if unexpected := sorted(set(names) - set(expected_names)):
            problems.append(f"members not in its manifest: {unexpected}")
        if missing := sorted(set(expected_names) - set(names)):
            problems.append(f"missing members: {missing}")
        if len(names) != len(set(names)):
            problems.append("duplicate member names")
        if problems:
            raise CheckpointError(f"{where}: " + "; ".join(problems))
        yield header, archive


def _check_shape_and_dtype(entry: dict, expected: _Leaf, where: str) -> None:
    if tuple(entry["shape"]) != expected.shape or _DTYPES[entry["dtype"]] != expected.dtype:
        needs_x64 = " (a 64-bit value needs jax_enable_x64)" if not _representable(_DTYPES[entry["dtype"]]) else ""
        raise CheckpointError(
            f"{where}: leaf {entry['path']} is {entry['dtype']}{entry['shape']}, "
            f"expected {expected.dtype.name}{list(expected.shape)}{needs_x64}"
        )


def _representable(dtype: np.dtype) -> bool:
    return jax.dtypes.canonicalize_dtype(dtype) == dtype


def _without_chain_slots(path: str) -> str:
    return _CHAIN_SLOTS.sub("", path)


def _first_difference(saved: str, expected: str) -> str:
    start = next((i for i, (a, b) in enumerate(zip(saved, expected)) if a != b), min(len(saved), len(expected)))
    start = max(0, start - 40)
    return (
        f"saved ...{saved[start : start + 120]}... where the expected state has ...{expected[start : start + 120]}..."
    )


def _match_v2(header: dict, expected: list[_Leaf], like: PyTree, where: str) -> list[list[int]]:
    stored = header["leaves"]
    if len(stored) != len(expected):
        raise CheckpointError(
            f"{where} holds {len(stored)} leaves but the expected state has {len(expected)} "
            f"(saved structure: {header['treedef']})"
        )
    for entry, leaf in zip(stored, expected):
        if entry["path"] != leaf.path:
            raise CheckpointError(f"{where}: leaf {entry['path']} is where the expected state has {leaf.path}")
        _check_shape_and_dtype(entry, leaf, where)
    expected_treedef = str(jax.tree.structure(like))
    if header["treedef"] != expected_treedef:
        raise CheckpointError(
            f"{where}: the saved structure differs from the expected one although the leaf paths agree "
            f"(another optimizer or state class?): {_first_difference(header['treedef'], expected_treedef)}"
        )
    return [[index] for index in range(len(stored))]


def _match_v1(header: dict, expected: list[_Leaf], where: str) -> list[list[int]]:
    stored = header["leaves"]
    by_path = collections.defaultdict(list)
    for index, entry in enumerate(stored):
        by_path[_without_chain_slots(entry["path"])].append(index)
    sources = []
    for leaf in expected:
        candidates = by_path.get(_without_chain_slots(leaf.path))
        if not candidates:
            raise CheckpointError(f"{where} (format v1) has no leaf for the expected {leaf.path}")
        for index in candidates:
            _check_shape_and_dtype(stored[index], leaf, where)
        sources.append(candidates)
    matched = {index for candidates in sources for index in candidates}
    unmatched = [entry["path"] for index, entry in enumerate(stored) if index not in matched]
    if unmatched:
        raise CheckpointError(f"{where} (format v1): leaves {unmatched} have no place in the expected state")
    return sources


def load_state(path: str | os.PathLike, like: PyTree) -> PyTree:
    """Read a state written by :func:`save_state` (format v2, or v1), checked against ``like``.

    Args:
        path: the checkpoint file.
        like: the state expected, e.g. ``tx.init(params)`` or ``jax.eval_shape(tx.init, params)``: its
            structure, leaf paths, shapes and dtypes must match the file's. Its values are not used.

    Returns:
        ``like``'s structure with the stored values as JAX arrays, bit for bit.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: (a ``ValueError``) the file is damaged or foreign, differs from ``like`` (the message
            names the first leaf that does), or holds a 64-bit leaf while ``jax_enable_x64`` is off.

    Example::

        restored = js.load_state("ckpt.npz", like={"params": params, "opt": tx.init(params), "plateau": pstate})
    """
    where = os.fspath(path)
    expected = _expected_leaves(like)
    with _open_checkpoint(path) as (header, archive):
        stored = header["leaves"]
        if header["format"] == _FORMAT:
            sources = _match_v2(header, expected, like, where)
        else:
            sources = _match_v1(header, expected, where)
        for leaf in expected:
            if not _representable(leaf.dtype):
                raise CheckpointError(
                    f"{where}: leaf {leaf.path} is {leaf.dtype.name}, which JAX narrows to "
                    f"{jax.dtypes.canonicalize_dtype(leaf.dtype).name} while 64-bit mode is off; enable "
                    "jax_enable_x64 (jax.config.update('jax_enable_x64', True)) to load it exactly"
                )
        payloads: dict[int, bytes] = {}

        def payload(index: int) -> bytes:
            if index not in payloads:
                entry = stored[index]
                nbytes = _DTYPES[entry["dtype"]].itemsize * math.prod(entry["shape"])
                raw = _read_uint8_member(archive, f"leaf_{index}.npy", range(nbytes, nbytes + 1), where)
                if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
                    raise CheckpointError(f"{where}: leaf {entry['path']} is corrupt (checksum mismatch)")
                payloads[index] = raw
            return payloads[index]

        values = []
        for leaf, candidates in zip(expected, sources):
            raw = payload(candidates[0])
            if any(payload(index) != raw for index in candidates[1:]):
                paths = [stored[index]["path"] for index in candidates]
                raise CheckpointError(
                    f"{where} (format v1): leaves {paths} all map to {leaf.path} but hold different values"
                )
            values.append(jnp.asarray(np.frombuffer(raw, leaf.dtype).reshape(leaf.shape)))
    return jax.tree.unflatten(jax.tree.structure(like), values)


def checkpoint_info(path: str | os.PathLike) -> dict[str, Any]:
    """The format, saved structure and per-leaf paths, dtypes and shapes of a checkpoint, without reading its arrays.

    Example::

        js.checkpoint_info("ckpt.npz")["leaves"][0]  # e.g. {"path": "['opt'].step", "dtype": "int32", "shape": []}
    """
    with _open_checkpoint(path) as (header, _):
        leaves = [{key: entry[key] for key in ("path", "dtype", "shape")} for entry in header["leaves"]]
        return {"format": header["format"], "treedef": header["treedef"], "leaves": leaves}
