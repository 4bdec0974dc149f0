"""Complex parameters: torch's numbers in every optimizer, refusals where torch refuses, and the wrappers."""

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.complex_parity import CASES, PARAMS0, golden, run_jax, run_torch
from tests.optim_db import OPTIM_DB

HAS_TORCH = importlib.util.find_spec("torch") is not None
RTOL, ATOL = 1e-10, 1e-12


def assert_trajectories_close(actual, expected, what):
    assert actual.shape == expected.shape
    for step, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL, err_msg=f"{what}: differs at step {step}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_golden_torch_trajectory(name):
    assert_trajectories_close(run_jax(name), golden(name), name)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed (golden values still checked)")
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_live_torch(name):
    assert_trajectories_close(run_jax(name), run_torch(name), name)


# js.muon is not in the table (it takes matrices only); torch refuses complex parameters for it
REFUSED = [info.make for info in OPTIM_DB if not info.supports_complex] + [js.muon]


def test_every_optimizer_has_complex_cases_or_refuses_complex():
    # refused as torch refuses (sparse_adam, adafactor, muon; lbfgs, see the README), or as their
    # reference packages' complex math is not mirrored (lion, lamb, lars, prodigy, schedule-free)
    assert {optimizer for optimizer, _ in CASES.values()} == {info.name for info in OPTIM_DB if info.supports_complex}
    helpers = {"asgd_averaged_params", "schedule_free_eval_params"}
    classes = {name for name in js.optimizers.__all__ if name[0].isupper()}
    assert {make.__name__ for make in REFUSED} | {optimizer for optimizer, _ in CASES.values()} == (
        set(js.optimizers.__all__) - helpers - classes
    )


@pytest.mark.parametrize(
    "wrap",
    [
        lambda tx: js.flatten(tx, max_leaf_size=4),
        lambda tx: js.partition({"all": tx}, lambda p: jax.tree.map(lambda _: "all", p)),
        lambda tx: js.masked(tx, lambda p: jax.tree.map(lambda _: True, p)),
        lambda tx: js.skip_non_finite(tx),
        lambda tx: js.chain(js.clip_by_global_norm(1e6), tx),
    ],
    ids=["flatten", "partition", "masked", "skip_non_finite", "chain_clip"],
)
def test_wrappers_keep_torchs_numbers_on_complex_leaves(wrap):
    assert_trajectories_close(run_jax("adam_amsgrad_wd", wrap), golden("adam_amsgrad_wd"), "wrapped adam")


def test_state_is_complex_like_the_parameters():
    params = {"z": jnp.ones(3, jnp.complex64), "w": jnp.ones(2)}
    state = js.adam(amsgrad=True).init(params)
    _, state = js.adam(amsgrad=True).update({"z": jnp.full(3, 1 - 1j, jnp.complex64), "w": jnp.ones(2)}, state, params)
    for buffer in (state.inner_state.exp_avg, state.inner_state.exp_avg_sq, state.inner_state.max_exp_avg_sq):
        assert buffer["z"].dtype == jnp.complex64 and buffer["w"].dtype == jnp.float32
    # torch's second moment of a complex value is the pair (re^2, im^2), stored as re^2 + i im^2
    np.testing.assert_allclose(state.inner_state.exp_avg_sq["z"], np.full(3, 0.001 + 0.001j), rtol=1e-4)


def test_low_precision_state_leaves_complex_moments_complex():
    params = {"z": jnp.ones(3, jnp.complex64), "w": jnp.ones(2)}
    tx = js.low_precision_state(js.adam(1e-2), jnp.bfloat16)
    state = tx.init(params)
    assert state.inner_state.exp_avg["z"].dtype == jnp.complex64  # no bfloat16 complex type exists
    assert state.inner_state.exp_avg["w"].dtype == jnp.bfloat16
    updates, _ = tx.update({"z": jnp.full(3, 1 + 1j, jnp.complex64), "w": jnp.ones(2)}, state, params)
    assert updates["z"].dtype == jnp.complex64


def test_checkpoint_round_trips_complex_state(tmp_path):
    params = {"z": jnp.asarray(PARAMS0["a_complex_matrix"], jnp.complex64)}
    tx = js.adam(1e-2)
    _, state = tx.update({"z": jnp.full((3, 2), 0.5 - 2j, jnp.complex64)}, tx.init(params), params)
    js.save_state(tmp_path / "c.npz", state)
    loaded = js.load_state(tmp_path / "c.npz", like=state)
    jax.tree.map(np.testing.assert_array_equal, loaded, state)


@pytest.mark.parametrize("make", REFUSED, ids=[make.__name__ for make in REFUSED])
def test_refused_where_there_is_no_complex_math_to_match(make):
    with pytest.raises(ValueError, match=r"\['z'\] is complex"):
        make().init({"w": jnp.ones((2, 2)), "z": jnp.ones((2, 2), jnp.complex64)})


def test_clip_refuses_complex_gradients_and_global_norm_uses_the_modulus():
    grads = {"z": jnp.asarray([3 + 4j], jnp.complex64), "w": jnp.asarray([12.0])}
    with pytest.raises(TypeError, match=r"clip.*\['z'\] is complex"):
        js.clip(1.0).update(grads, js.clip(1.0).init(grads))
    np.testing.assert_allclose(js.transforms.global_norm(grads), 13.0, rtol=1e-6)  # sqrt(|3+4j|^2 + 12^2)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_clip_by_global_norm_matches_torch_on_complex_gradients():
    import torch

    values = np.array([0.3 - 1.2j, 2.0 + 0.5j])
    tensor = torch.zeros(2, dtype=torch.complex128, requires_grad=True)
    tensor.grad = torch.tensor(values)
    torch.nn.utils.clip_grad_norm_([tensor], max_norm=1.0)
    with jax.enable_x64(True):
        tx = js.clip_by_global_norm(1.0)
        grads = {"z": jnp.asarray(values)}
        clipped, _ = tx.update(grads, tx.init(grads))
    np.testing.assert_allclose(np.asarray(clipped["z"]), tensor.grad.numpy(), rtol=1e-12)


def test_jax_grad_is_taken_as_it_is():
    # d|z - (1+2j)|^2/dz at 0: jax.grad gives -2+4j (torch's .grad is -2-4j); SGD must move towards 1+2j
    loss = lambda p: jnp.sum(jnp.abs(p["z"] - (1 + 2j)) ** 2)  # noqa: E731
    params = {"z": jnp.zeros(1, jnp.complex64)}
    tx = js.sgd(0.25)
    updates, _ = tx.update(jax.grad(loss)(params), tx.init(params), params)
    np.testing.assert_allclose(js.apply_updates(params, updates)["z"], [0.5 + 1j])
