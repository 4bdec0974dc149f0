"""save_state/load_state: bit-identical resume, clear rejection of corrupt or mismatched files."""

import errno
import hashlib
import json
import os
import stat
import threading
import zipfile
from collections import namedtuple
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.fixtures import write_checkpoint_v1


def make_problem():
    params = {
        "w": jnp.linspace(-1.0, 1.0, 6).reshape(2, 3),
        "low": jnp.full((4,), 0.5, jnp.bfloat16),
        "s": jnp.asarray(2.0),
    }
    tx = js.chain(js.clip_by_global_norm(1.0), js.adamw(lambda t: 1e-2 / (1.0 + 0.1 * t), amsgrad=True))

    @jax.jit
    def step(params, state, i):
        grads = jax.tree.map(lambda p: (jnp.sin(p.astype(jnp.float32) * (i + 1)) + 0.2).astype(p.dtype), params)
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state

    return params, tx, step


def run(params, state, step, start, stop):
    for i in range(start, stop):
        params, state = step(params, state, i)
    return params, state


def bitwise_equal(a, b):
    return all(
        np.array_equal(np.asarray(x).reshape(-1).view(np.uint8), np.asarray(y).reshape(-1).view(np.uint8))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b))
    )


@pytest.mark.parametrize("kill_at", [1, 7, 13])
def test_kill_and_resume_is_bit_identical(tmp_path, kill_at):
    params, tx, step = make_problem()
    uninterrupted = run(params, tx.init(params), step, 0, 20)

    p, s = run(params, tx.init(params), step, 0, kill_at)
    js.save_state(tmp_path / "ckpt.npz", {"params": p, "opt": s})
    del p, s  # the "killed" process
    fresh_params, fresh_tx, fresh_step = make_problem()
    restored = js.load_state(tmp_path / "ckpt.npz", like={"params": fresh_params, "opt": fresh_tx.init(fresh_params)})
    resumed = run(restored["params"], restored["opt"], fresh_step, kill_at, 20)
    assert bitwise_equal(resumed, uninterrupted)
    assert int(resumed[1][1].step) == 20


def test_round_trip_keeps_dtypes_and_info(tmp_path):
    params, tx, _ = make_problem()
    state = tx.init(params)
    js.save_state(tmp_path / "s.npz", state)
    loaded = js.load_state(tmp_path / "s.npz", like=state)
    assert jax.tree.structure(loaded) == jax.tree.structure(state)
    assert [x.dtype for x in jax.tree.leaves(loaded)] == [x.dtype for x in jax.tree.leaves(state)]
    info = js.checkpoint_info(tmp_path / "s.npz")
    paths = [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(state)[0]]
    low_max_moment = next(path for path in paths if path.endswith(".max_exp_avg_sq['low']"))
    assert {"path": low_max_moment, "dtype": "float32", "shape": [4]} in info["leaves"]
    assert info["format"] == "jaxsched-state-v2"


def test_mismatched_state_is_rejected_naming_the_leaf(tmp_path):
    params, tx, _ = make_problem()
    js.save_state(tmp_path / "s.npz", tx.init(params))
    other = {**params, "w": jnp.zeros((3, 3))}
    with pytest.raises(js.CheckpointError, match=r"exp_avg\['w'\] is float32\[2, 3\], expected float32\[3, 3\]"):
        js.load_state(tmp_path / "s.npz", like=tx.init(other))
    with pytest.raises(js.CheckpointError, match=r"holds .* leaves but the expected state has"):
        js.load_state(tmp_path / "s.npz", like=js.sgd(0.1).init(params))
    js.save_state(tmp_path / "p.npz", params)
    with pytest.raises(js.CheckpointError, match=r"leaf \['low'\] is bfloat16\[4\], expected float16\[4\]"):
        js.load_state(tmp_path / "p.npz", like={**params, "low": params["low"].astype(jnp.float16)})


def test_corrupt_files_are_rejected(tmp_path):
    params, tx, _ = make_problem()
    state = tx.init(params)
    path = tmp_path / "s.npz"
    js.save_state(path, state)
    data = bytearray(path.read_bytes())

    (tmp_path / "truncated.npz").write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(js.CheckpointError, match="not a readable jaxsched checkpoint"):
        js.load_state(tmp_path / "truncated.npz", like=state)

    (tmp_path / "garbage.npz").write_bytes(b"not a checkpoint at all")
    with pytest.raises(js.CheckpointError, match="not a readable"):
        js.load_state(tmp_path / "garbage.npz", like=state)

    # Flip bits inside one stored array (np.savez stores uncompressed, so the bytes are findable).
    tampered = {k: v for k, v in np.load(path).items()}
    tampered["leaf_3"] = tampered["leaf_3"] ^ np.uint8(1)
    np.savez(tmp_path / "tampered.npz", **tampered)
    with pytest.raises(js.CheckpointError, match="corrupt"):
        js.load_state(tmp_path / "tampered.npz", like=state)


# --- saving: atomic, symlink-safe, concurrent-safe -------------------------------------------------------------


def small_state(fill=0.0):
    return {"w": np.full((64, 64), fill, np.float32), "step": np.asarray(3, np.int32)}


def test_save_does_not_follow_a_symlink_at_the_old_temporary_name(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "ckpt.npz.tmp").symlink_to(victim)
    js.save_state(tmp_path / "ckpt.npz", small_state())
    assert victim.read_text() == "precious"
    assert (tmp_path / "ckpt.npz.tmp").is_symlink()
    assert bitwise_equal(js.load_state(tmp_path / "ckpt.npz", small_state()), small_state())


def test_concurrent_saves_to_one_path_leave_one_complete_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    states = [small_state(fill) for fill in range(6)]
    errors = []

    def save_repeatedly(state):
        try:
            for _ in range(10):
                js.save_state(path, state)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=save_repeatedly, args=(state,)) for state in states]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    loaded = js.load_state(path, small_state())
    assert any(bitwise_equal(loaded, state) for state in states)
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]


def fail_writes_after(monkeypatch, budget):
    """Make np.savez's writes raise ENOSPC once ``budget`` bytes are written (a full disk)."""
    real_savez = np.savez

    class FullDisk:
        def __init__(self, file):
            self.file, self.written = file, 0

        def write(self, data):
            self.written += len(data)
            if self.written > budget:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.file.write(data)

        def __getattr__(self, name):
            return getattr(self.file, name)

    monkeypatch.setattr(np, "savez", lambda file, **arrays: real_savez(FullDisk(file), **arrays))


def test_a_save_over_a_folder_fails_without_leaving_its_temporary_file(tmp_path):
    (tmp_path / "ckpt.npz").mkdir()
    with pytest.raises(OSError):
        js.save_state(tmp_path / "ckpt.npz", small_state())
    assert os.listdir(tmp_path) == ["ckpt.npz"] and (tmp_path / "ckpt.npz").is_dir()


def test_a_save_on_a_full_disk_keeps_the_previous_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    js.save_state(path, small_state(1.0))
    fail_writes_after(monkeypatch, budget=5000)
    with pytest.raises(OSError, match="No space left"):
        js.save_state(path, small_state(2.0))
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert bitwise_equal(js.load_state(path, small_state()), small_state(1.0))


def test_save_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "fsync file")
        real_fsync(descriptor)

    def replace(source, target):
        events.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    js.save_state(tmp_path / "ckpt.npz", small_state())
    assert events == ["fsync file", "replace", "fsync folder"]


def test_saved_file_gets_the_umask_permissions(tmp_path):
    previous = os.umask(0o027)
    try:
        js.save_state(tmp_path / "ckpt.npz", small_state())
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "ckpt.npz").stat().st_mode) == 0o640


def test_non_numeric_leaves_are_refused_when_saving(tmp_path):
    with pytest.raises(TypeError, match=r"leaf \['name'\] has dtype <U5"):
        js.save_state(tmp_path / "ckpt.npz", {"name": np.asarray("adamw")})
    assert os.listdir(tmp_path) == []


# --- loading: exact values, structure, bounded reads ----------------------------------------------------------


def test_64_bit_leaves_load_exactly_with_x64_and_are_refused_without(tmp_path):
    state = {"count": np.asarray(2**40, np.int64), "total": np.asarray(1 / 3, np.float64)}
    js.save_state(tmp_path / "s.npz", state)
    with pytest.raises(js.CheckpointError, match=r"leaf \['count'\] is int64.*enable jax_enable_x64"):
        js.load_state(tmp_path / "s.npz", like=state)
    with pytest.raises(
        js.CheckpointError, match=r"\['count'\] is int64\[\], expected int32\[\] \(a 64-bit value needs jax_enable_x64"
    ):
        js.load_state(tmp_path / "s.npz", like=jax.tree.map(jnp.asarray, state))  # narrowed to int32/float32
    with jax.enable_x64(True):
        loaded = js.load_state(tmp_path / "s.npz", like=jax.tree.map(jnp.asarray, state))
        assert loaded["count"].dtype == jnp.int64 and int(loaded["count"]) == 2**40
        assert bitwise_equal(loaded, state)


def test_same_leaf_paths_of_another_state_class_are_rejected(tmp_path):
    params = {"w": jnp.ones(2)}
    adam_state, radam_state = js.adam(1e-2).init(params), js.radam(1e-2).init(params)
    js.save_state(tmp_path / "s.npz", adam_state)
    with pytest.raises(
        js.CheckpointError, match=r"saved structure differs .*AdamState.* where the expected state has .*RAdamState"
    ):
        js.load_state(tmp_path / "s.npz", like=radam_state)


def test_like_may_be_shape_dtype_structs(tmp_path):
    params, tx, _ = make_problem()
    state = tx.init(params)
    js.save_state(tmp_path / "s.npz", state)
    loaded = js.load_state(tmp_path / "s.npz", like=jax.eval_shape(tx.init, params))
    assert jax.tree.structure(loaded) == jax.tree.structure(state) and bitwise_equal(loaded, state)


def read_members(path):
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


def header_of(members):
    return json.loads(members["__manifest__"].tobytes())


def write_members(path, members, header=None):
    if header is not None:
        members = {**members, "__manifest__": np.frombuffer(json.dumps(header).encode(), np.uint8)}
    with open(path, "wb") as file:
        np.savez(file, **members)


def track_member_reads(monkeypatch):
    opened = []
    real_open = zipfile.ZipFile.open

    def open_member(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", open_member)
    return opened


def test_a_member_outside_the_manifest_is_rejected_without_being_decompressed(tmp_path, monkeypatch):
    path = tmp_path / "s.npz"
    js.save_state(path, small_state())
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("bomb.npy", "w", force_zip64=True) as bomb,
    ):
        for _ in range(64):  # 64 MiB of zeros, 64 KiB compressed
            bomb.write(bytes(2**20))
    assert path.stat().st_size < 2**20
    opened = track_member_reads(monkeypatch)
    with pytest.raises(js.CheckpointError, match=r"members not in its manifest: \['bomb.npy'\]"):
        js.load_state(path, small_state())
    assert "bomb.npy" not in opened


def test_a_member_larger_than_its_manifest_entry_is_rejected_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "s.npz"
    js.save_state(path, small_state())
    members = read_members(path)
    members["leaf_0"] = np.zeros(2**20, np.uint8)  # the manifest says int32[]: 4 bytes
    write_members(path, members)
    opened = track_member_reads(monkeypatch)
    with pytest.raises(js.CheckpointError, match=r"member leaf_0.npy is 1048\d+ bytes uncompressed, allowed 4 bytes"):
        js.load_state(path, small_state())
    assert "leaf_0.npy" not in opened


def test_an_oversized_manifest_is_rejected(tmp_path):
    path = tmp_path / "s.npz"
    js.save_state(path, small_state())
    members = read_members(path)
    padded = b" " * (65 * 2**20) + members.pop("__manifest__").tobytes()  # JSON allows leading whitespace
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, value in members.items():
            with archive.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, value)
        with archive.open("__manifest__.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array(member, np.frombuffer(padded, np.uint8))
    with pytest.raises(
        js.CheckpointError, match=r"member __manifest__.npy is \d+ bytes uncompressed, allowed 0 to 67108864"
    ):
        js.load_state(path, small_state())


def set_in_header(key, value):
    return lambda header: {**header, key: value}


def set_in_leaf(key, value):
    return lambda header: {**header, "leaves": [{**header["leaves"][0], key: value}, *header["leaves"][1:]]}


DEEP = '{"format": "jaxsched-state-v2", "treedef": "", "leaves": ' + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.mark.parametrize(
    "damage, message",
    [
        pytest.param(lambda header: [header], "the manifest is a JSON list, expected an object", id="json-list"),
        pytest.param(
            lambda header: {k: v for k, v in header.items() if k != "treedef"},
            "manifest has keys .*, expected format, leaves, treedef",
            id="missing-key",
        ),
        pytest.param(
            set_in_header("format", "jaxsched-state-v9"),
            "has format 'jaxsched-state-v9', expected 'jaxsched-state-v2' or",
            id="unknown-format",
        ),
        pytest.param(set_in_header("leaves", None), "leaves is a NoneType, expected a list", id="leaves-null"),
        pytest.param(set_in_header("treedef", 7), "treedef is a int, expected a string", id="treedef-not-string"),
        pytest.param(lambda header: DEEP, "RecursionError", id="deep-nesting"),
        pytest.param(
            set_in_leaf("dtype", "object"),
            r"leaf 0 \(\['step'\]\) has dtype 'object', allowed: bool, int8",
            id="object-dtype",
        ),
        pytest.param(set_in_leaf("dtype", ["float32"]), "has dtype \\['float32'\\], allowed", id="dtype-not-string"),
        pytest.param(
            set_in_leaf("shape", [-1]), r"has shape \[-1\], expected a list of non-negative ints", id="negative-size"
        ),
        pytest.param(set_in_leaf("shape", [True]), r"has shape \[True\]", id="bool-size"),
        pytest.param(set_in_leaf("shape", None), "has shape None", id="shape-null"),
        pytest.param(set_in_leaf("sha256", "xyz"), "has sha256 'xyz', expected 64 hex digits", id="bad-sha256"),
        pytest.param(set_in_leaf("path", 3), "has path 3, expected a string", id="path-not-string"),
        pytest.param(set_in_leaf("extra", 1), "must be an object with exactly the keys", id="extra-leaf-key"),
        pytest.param(
            lambda header: {**header, "leaves": header["leaves"][:1]},
            r"members not in its manifest: \['leaf_1.npy'\]",
            id="fewer-leaves-than-members",
        ),
    ],
)
def test_crafted_manifests_raise_checkpoint_error(tmp_path, damage, message):
    path = tmp_path / "s.npz"
    js.save_state(path, small_state())
    members = read_members(path)
    crafted = damage(header_of(members))
    if isinstance(crafted, str):
        members["__manifest__"] = np.frombuffer(crafted.encode(), np.uint8)
        write_members(path, members)
    else:
        write_members(path, members, crafted)
    with pytest.raises(js.CheckpointError, match=message):
        js.load_state(path, small_state())


def test_damaged_leaves_and_foreign_files_raise_checkpoint_error(tmp_path):
    state = small_state()
    path = tmp_path / "s.npz"
    js.save_state(path, state)
    members = read_members(path)
    header = header_of(members)

    short = np.zeros(12, np.uint8)  # float32[64, 64] needs 16384 bytes
    header["leaves"][1]["sha256"] = hashlib.sha256(short).hexdigest()
    write_members(tmp_path / "short.npz", {**members, "leaf_1": short}, header)
    with pytest.raises(js.CheckpointError, match=r"member leaf_1.npy is \d+ bytes uncompressed, allowed 16384 bytes"):
        js.load_state(tmp_path / "short.npz", state)

    padded = np.zeros(16384 + 8000, np.uint8)  # within the size bound, but not a 16384-byte vector
    write_members(tmp_path / "padded.npz", {**members, "leaf_1": padded})
    with pytest.raises(js.CheckpointError, match=r"leaf_1.npy is unreadable \(holds uint8\[24384\]"):
        js.load_state(tmp_path / "padded.npz", state)

    write_members(tmp_path / "object.npz", {**members, "leaf_0": np.asarray([1, "a"], dtype=object)})
    with pytest.raises(js.CheckpointError, match=r"leaf_0.npy is unreadable \(holds object"):
        js.load_state(tmp_path / "object.npz", state)

    np.save(tmp_path / "plain.npy", np.zeros(3))
    with pytest.raises(js.CheckpointError, match="not a readable jaxsched checkpoint"):
        js.load_state(tmp_path / "plain.npy", state)

    write_members(
        tmp_path / "float_manifest.npz", {**members, "__manifest__": members["__manifest__"].astype(np.float32)}
    )
    with pytest.raises(js.CheckpointError, match=r"__manifest__.npy is unreadable \(holds float32"):
        js.load_state(tmp_path / "float_manifest.npz", state)


# --- format v1 (optimizer states nested in tuples of chain slots) ---------------------------------------------

FIXTURE_V1 = Path(write_checkpoint_v1.__file__).with_name("checkpoint_v1.npz")


def test_the_v1_fixture_loads_bit_for_bit():
    like = write_checkpoint_v1.states_after_three_updates()
    loaded = js.load_state(FIXTURE_V1, like=like)
    assert jax.tree.structure(loaded) == jax.tree.structure(like)
    # the stored bytes, leaf for leaf (the v1 leaves come in the same order as today's)
    with zipfile.ZipFile(FIXTURE_V1) as archive:
        stored = [np.load(archive.open(f"leaf_{i}.npy")) for i in range(len(jax.tree.leaves(like)))]
    for leaf, raw in zip(jax.tree.leaves(loaded), stored, strict=True):
        assert np.array_equal(np.asarray(leaf).reshape(-1).view(np.uint8), raw)
    # and the same states as today's code computes, up to the float32 roundings this round changed
    # (torch's squaring order, RAdam's rho_t, decoupled decay's factor)
    for a, b in zip(jax.tree.leaves(loaded), jax.tree.leaves(like), strict=True):
        np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=1e-5, atol=1e-7)
    assert js.checkpoint_info(FIXTURE_V1)["format"] == "jaxsched-state-v1"


Hyperparams = namedtuple("HyperparamsState", "step hyperparams inner_state")
Count = namedtuple("ScaleByScheduleState", "step")
Trace = namedtuple("TraceState", "step momentum_buffer")
OldRmsprop = namedtuple("RmspropState", "square_avg grad_avg")
NewRmsprop = namedtuple("RmspropState", "square_avg grad_avg momentum_buffer")


def save_as_v1(path, state):
    """Save ``state`` as the v1 format did: the same members under the previous format name."""
    js.save_state(path, state)
    members = read_members(path)
    write_members(path, members, {**header_of(members), "format": "jaxsched-state-v1"})


def momentum_buffer():
    return {"w": np.arange(3, dtype=np.float32)}


def test_v1_chain_slots_load_into_the_optimizer_state_itself(tmp_path):
    step = np.asarray(5, np.int32)
    # v1: `.inner_state[0].step`, `.inner_state[1].step` and `.inner_state[1].momentum_buffer['w']`.
    old = Hyperparams(step, {"lr": np.float32(0.1)}, (Count(step), Trace(step, momentum_buffer())))
    save_as_v1(tmp_path / "v1.npz", old)
    new = Hyperparams(step, {"lr": np.float32(0.0)}, Trace(np.asarray(0, np.int32), {"w": np.zeros(3, np.float32)}))
    loaded = js.load_state(tmp_path / "v1.npz", like=new)
    assert jax.tree.structure(loaded) == jax.tree.structure(new)
    assert bitwise_equal(loaded, Hyperparams(step, {"lr": np.float32(0.1)}, Trace(step, momentum_buffer())))


def test_v1_leaves_that_collapse_must_agree_and_all_find_a_place(tmp_path):
    step, other_step = np.asarray(5, np.int32), np.asarray(4, np.int32)
    new = Hyperparams(step, {}, Trace(step, momentum_buffer()))
    save_as_v1(tmp_path / "disagree.npz", Hyperparams(step, {}, (Count(other_step), Trace(step, momentum_buffer()))))
    with pytest.raises(
        js.CheckpointError, match=r"leaves \['.inner_state\[0\].step', '.inner_state\[1\].step'\] all map"
    ):
        js.load_state(tmp_path / "disagree.npz", like=new)

    # RMSprop with momentum: v1's TraceState.step has no field in the merged RmspropState.
    old = Hyperparams(
        step,
        {},
        ((OldRmsprop({"w": np.ones(3, np.float32)}, {"w": np.ones(3, np.float32)}), Trace(step, momentum_buffer())),),
    )
    save_as_v1(tmp_path / "rmsprop.npz", old)
    merged = Hyperparams(
        step, {}, NewRmsprop({"w": np.ones(3, np.float32)}, {"w": np.ones(3, np.float32)}, momentum_buffer())
    )
    with pytest.raises(
        js.CheckpointError, match=r"format v1\): leaves \['.inner_state\[0\]\[1\].step'\] have no place"
    ):
        js.load_state(tmp_path / "rmsprop.npz", like=merged)

    with pytest.raises(
        js.CheckpointError, match=r"format v1\) has no leaf for the expected .inner_state.square_avg\['w'\]"
    ):
        js.load_state(tmp_path / "disagree.npz", like=merged)
