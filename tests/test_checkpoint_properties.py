"""Property tests of save_state/load_state: a load returns bit for bit what was saved or raises CheckpointError.

Random pytrees of every numeric dtype (arbitrary bit patterns: NaN payloads, subnormals, infinities), loaded
with and without 64-bit mode, saves interrupted at random points, and concurrent writers to one path.
"""

import errno
import math
import os
import tempfile
import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxsched as js

DTYPES = [
    np.dtype(kind)
    for kind in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
        np.float16, jnp.bfloat16, np.float32, np.float64, np.complex64, np.complex128,
    )
]  # fmt: skip
SIXTY_FOUR_BIT = {np.dtype(kind) for kind in (np.int64, np.uint64, np.float64, np.complex128)}


@st.composite
def arrays(draw, dtypes=DTYPES):
    dtype = draw(st.sampled_from(dtypes))
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    size = math.prod(shape)
    if dtype == np.bool_:  # a bool byte other than 0 or 1 is not a bool numpy or JAX keeps
        return np.asarray(draw(st.lists(st.booleans(), min_size=size, max_size=size)), bool).reshape(shape)
    raw = draw(st.binary(min_size=size * dtype.itemsize, max_size=size * dtype.itemsize))
    return np.frombuffer(raw, dtype).reshape(shape).copy()


def pytrees(dtypes=DTYPES):
    return st.recursive(
        arrays(dtypes),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.tuples(children, children),
            st.dictionaries(st.text(max_size=3), children, max_size=3),
        ),
        max_leaves=6,
    )


def bitwise_equal(a, b):
    leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
    return (
        jax.tree.structure(a) == jax.tree.structure(b)
        and all(np.asarray(x).dtype == np.asarray(y).dtype for x, y in zip(leaves_a, leaves_b))
        and all(
            np.asarray(x).shape == np.asarray(y).shape and np.asarray(x).tobytes() == np.asarray(y).tobytes()
            for x, y in zip(leaves_a, leaves_b)
        )
    )


def shape_dtype_structs(tree):
    return jax.tree.map(lambda leaf: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype), tree)


@settings(max_examples=50, deadline=None)
@given(tree=pytrees(), x64=st.booleans(), like_structs=st.booleans())
def test_a_load_returns_what_was_saved_or_refuses_a_64_bit_leaf_without_x64(tree, x64, like_structs):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ckpt.npz")
        js.save_state(path, tree)
        with jax.enable_x64(x64):
            like = shape_dtype_structs(tree) if like_structs else tree
            if not x64 and any(leaf.dtype in SIXTY_FOUR_BIT for leaf in jax.tree.leaves(tree)):
                with pytest.raises(js.CheckpointError, match="jax_enable_x64"):
                    js.load_state(path, like)
            else:
                assert bitwise_equal(js.load_state(path, like), tree)


class Interrupted(BaseException):
    """A KeyboardInterrupt-like stop that is not one (hypothesis treats a real KeyboardInterrupt as the user's)."""


FAILURES = {"disk full": lambda: OSError(errno.ENOSPC, "No space left on device"), "interrupt": Interrupted}


@settings(max_examples=40, deadline=None)
@given(
    previous=pytrees(),
    new=pytrees(),
    where=st.sampled_from(["write", "fsync", "replace"]),
    bytes_before=st.integers(0, 3000),
    calls_before=st.integers(0, 2),
    failure=st.sampled_from(sorted(FAILURES)),
)
def test_a_failed_save_leaves_the_previous_checkpoint_and_no_temporary_file(
    previous, new, where, bytes_before, calls_before, failure
):
    """The save fails after ``bytes_before`` bytes written (``write``) or ``calls_before`` calls (fsync, replace)."""
    real = {"write": np.savez, "fsync": os.fsync, "replace": os.replace}
    calls = {"count": 0, "bytes": 0}

    class FailingFile:
        def __init__(self, file):
            self.file = file

        def write(self, data):
            calls["bytes"] += len(data)
            if calls["bytes"] > bytes_before:
                raise FAILURES[failure]()
            return self.file.write(data)

        def __getattr__(self, name):
            return getattr(self.file, name)

    def failing(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] > calls_before:
            raise FAILURES[failure]()
        return real[where](*args, **kwargs)

    with tempfile.TemporaryDirectory() as folder, jax.enable_x64(True), pytest.MonkeyPatch.context() as patch:
        path = os.path.join(folder, "ckpt.npz")
        js.save_state(path, previous)
        if where == "write":
            patch.setattr(np, "savez", lambda file, **arrays: real["write"](FailingFile(file), **arrays))
        else:
            patch.setattr(os, where, failing)
        try:
            js.save_state(path, new)
            failed = False
        except (OSError, Interrupted):
            failed = True
        patch.undo()
        assert os.listdir(folder) == ["ckpt.npz"]
        # The second fsync (the folder's) comes after the rename: failing, it leaves the new checkpoint, complete.
        renamed = not failed or (where == "fsync" and calls_before == 1)
        expected = new if renamed else previous
        assert bitwise_equal(js.load_state(path, expected), expected)


@settings(max_examples=30, deadline=None)
@given(states=st.lists(pytrees(), min_size=2, max_size=4))
def test_concurrent_writers_and_a_reader_only_ever_see_a_complete_checkpoint(states):
    tagged = [{"writer": np.asarray(index, np.int32), "state": state} for index, state in enumerate(states)]
    problems = []

    def load_any(path):
        """Load with the first layout that fits, then check the values are exactly what that writer saved."""
        for like in tagged:
            try:
                loaded = js.load_state(path, like)
            except js.CheckpointError:
                continue
            if not bitwise_equal(loaded, tagged[int(loaded["writer"])]):
                problems.append(f"writer {int(loaded['writer'])}'s checkpoint loaded with other values")
            return
        problems.append("no writer's layout loads the checkpoint")

    def write(state):
        for _ in range(3):
            js.save_state(path, state)

    def read():
        snapshot = os.path.join(snapshots, "snapshot.npz")
        with jax.enable_x64(True):  # a per-thread setting
            while not done.is_set():
                # One open file is one version; load_any opens the path once per layout it tries.
                with open(path, "rb") as current, open(snapshot, "wb") as copy:
                    copy.write(current.read())
                load_any(snapshot)

    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as snapshots, jax.enable_x64(True):
        path = os.path.join(folder, "ckpt.npz")
        js.save_state(path, tagged[0])
        done = threading.Event()
        reader = threading.Thread(target=read)
        writers = [threading.Thread(target=write, args=(state,)) for state in tagged]
        reader.start()
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        done.set()
        reader.join()
        load_any(path)
        assert problems == []
        assert os.listdir(folder) == ["ckpt.npz"]
