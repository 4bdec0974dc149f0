"""save_state/load_state: bit-identical resume, clear rejection of corrupt or mismatched files."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js


def make_problem():
    params = {"w": jnp.linspace(-1.0, 1.0, 6).reshape(2, 3), "low": jnp.full((4,), 0.5, jnp.bfloat16), "s": jnp.asarray(2.0)}
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
    return all(np.array_equal(np.asarray(x).reshape(-1).view(np.uint8), np.asarray(y).reshape(-1).view(np.uint8)) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


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
    assert {"path": "[1].inner_state[0].max_exp_avg_sq['low']", "dtype": "float32", "shape": [4]} in info["leaves"]


def test_mismatched_state_is_rejected_naming_the_leaf(tmp_path):
    params, tx, _ = make_problem()
    js.save_state(tmp_path / "s.npz", tx.init(params))
    other = {**params, "w": jnp.zeros((3, 3))}
    with pytest.raises(js.CheckpointError, match=r"exp_avg\['w'\] is float32\[2, 3\], expected float32\[3, 3\]"):
        js.load_state(tmp_path / "s.npz", like=tx.init(other))
    with pytest.raises(js.CheckpointError, match="holds .* leaves but the expected state has"):
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
