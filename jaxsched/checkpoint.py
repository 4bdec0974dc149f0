"""Dependency-free checkpoints of optimizer and plateau states (a single ``.npz`` file).

Each leaf is stored as its raw bytes with its path, dtype, shape and SHA-256 in a JSON manifest,
so every dtype (bfloat16 included) round-trips bit for bit, and loading validates the file against
the structure the caller expects instead of loading garbage. Orbax works too: states are ordinary
pytrees of arrays.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsched.core._base import PyTree

_FORMAT = "jaxsched-state-v1"
_MANIFEST = "__manifest__"


class CheckpointError(ValueError):
    """A checkpoint file is corrupt or does not match the expected state."""


def _leaf_entries(state: PyTree) -> list[tuple[str, np.ndarray]]:
    return [(jax.tree_util.keystr(path), np.asarray(leaf)) for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]]


def save_state(path: str | os.PathLike, state: PyTree) -> None:
    """Write ``state`` (any pytree of arrays: optimizer, plateau, params) to ``path`` (``.npz``).

    The file is written to a temporary name and renamed, so a crash never leaves a half-written
    checkpoint under ``path``.

    Example::

        js.save_state("ckpt.npz", {"params": params, "opt": opt_state, "plateau": pstate})
    """
    arrays, manifest = {}, []
    for i, (name, value) in enumerate(_leaf_entries(state)):
        raw = np.ascontiguousarray(value).reshape(-1).view(np.uint8)
        arrays[f"leaf_{i}"] = raw
        manifest.append({"path": name, "dtype": value.dtype.name, "shape": list(value.shape), "sha256": hashlib.sha256(raw).hexdigest()})
    header = {"format": _FORMAT, "treedef": str(jax.tree.structure(state)), "leaves": manifest}
    arrays[_MANIFEST] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def _read(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        header = json.loads(arrays.pop(_MANIFEST).tobytes().decode())
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, UnicodeDecodeError, EOFError) as error:
        raise CheckpointError(f"{os.fspath(path)} is not a readable jaxsched checkpoint ({error})") from None
    if header.get("format") != _FORMAT:
        raise CheckpointError(f"{os.fspath(path)} has format {header.get('format')!r}, expected {_FORMAT!r}")
    return header, arrays


def load_state(path: str | os.PathLike, like: PyTree) -> PyTree:
    """Read a state written by :func:`save_state`, checked against ``like`` (e.g. ``tx.init(params)``).

    Raises :class:`CheckpointError` (a ``ValueError``) naming the first leaf whose path, shape or
    dtype differs from ``like``, or whose bytes fail their checksum.

    Example::

        restored = js.load_state("ckpt.npz", like={"params": params, "opt": tx.init(params), "plateau": pstate})
    """
    header, arrays = _read(path)
    expected = _leaf_entries(like)
    stored = header["leaves"]
    if len(stored) != len(expected):
        raise CheckpointError(
            f"{os.fspath(path)} holds {len(stored)} leaves but the expected state has {len(expected)} "
            f"(saved structure: {header['treedef']})"
        )
    leaves = []
    for i, (entry, (name, reference)) in enumerate(zip(stored, expected)):
        where = f"{os.fspath(path)}: leaf {entry['path']}"
        if entry["path"] != name:
            raise CheckpointError(f"{where} is where the expected state has {name}")
        if tuple(entry["shape"]) != reference.shape or entry["dtype"] != reference.dtype.name:
            raise CheckpointError(
                f"{where} is {entry['dtype']}{entry['shape']}, expected {reference.dtype.name}{list(reference.shape)}"
            )
        raw = arrays.get(f"leaf_{i}")
        if raw is None or hashlib.sha256(raw).hexdigest() != entry["sha256"]:
            raise CheckpointError(f"{where} is corrupt (checksum mismatch)")
        leaves.append(jnp.asarray(raw.view(reference.dtype).reshape(reference.shape)))
    return jax.tree.unflatten(jax.tree.structure(like), leaves)


def checkpoint_info(path: str | os.PathLike) -> dict[str, Any]:
    """The saved structure and per-leaf paths, dtypes and shapes, without loading the arrays' values."""
    header, _ = _read(path)
    return {"treedef": header["treedef"], "leaves": [{k: e[k] for k in ("path", "dtype", "shape")} for e in header["leaves"]]}
