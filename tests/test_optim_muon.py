"""torch.optim.Muon parity at bfloat16 level (its Newton-Schulz runs in bfloat16), matrices only.

The shared parity harness runs every case on all of PARAMS0, which Muon refuses (it takes only
matrices), and asserts 1e-10; so this module has its own runner on a few matrices, with torch's
bfloat16 agreement as tolerance. No golden values: the cases compare with live torch only.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from tests.optim_contract import contract_tests
from tests.optim_parity import HAS_TORCH, PARAMS0, STEPS

# Max deviation of the params after STEPS updates, relative to their largest entry. Measured: at
# most 5e-3 (float32 and float64); exact to 1e-15 in float64 up to 16x8 (see js.muon's docstring).
BFLOAT16_RTOL = 1e-2

_rng = np.random.RandomState(1)
MATRICES = {
    "a_matrix": PARAMS0["a_matrix"],
    "wide": _rng.randn(3, 4),
    "square": _rng.randn(16, 8),
    "tall": _rng.randn(64, 20),
}
_TARGETS = {name: _rng.randn(*m.shape) for name, m in MATRICES.items()}


def _grads(params: dict[str, np.ndarray], step: int) -> dict[str, np.ndarray]:
    return {k: 0.8 * (p - _TARGETS[k]) + 0.1 * p**3 + 0.3 * np.sin(step + p) for k, p in params.items()}


# name -> (js.muon kwargs, torch.optim.Muon kwargs)
CASES = {
    "muon_default_adjust_lr": (dict(learning_rate=0.02), dict(lr=0.02)),
    "muon_original_without_nesterov": (
        dict(learning_rate=0.02, nesterov=False, adjust_lr_fn="original"),
        dict(lr=0.02, nesterov=False, adjust_lr_fn="original"),
    ),
    "muon_match_rms_adamw": (
        dict(learning_rate=0.02, adjust_lr_fn="match_rms_adamw"),
        dict(lr=0.02, adjust_lr_fn="match_rms_adamw"),
    ),
    "muon_match_rms_adamw_without_nesterov": (
        dict(learning_rate=0.01, nesterov=False, adjust_lr_fn="match_rms_adamw", weight_decay=0.3),
        dict(lr=0.01, nesterov=False, adjust_lr_fn="match_rms_adamw", weight_decay=0.3),
    ),
    "muon_no_weight_decay_other_coefficients": (
        dict(learning_rate=0.05, weight_decay=0.0, momentum=0.9, ns_coefficients=(2.0, -1.5, 0.5), ns_steps=3),
        dict(lr=0.05, weight_decay=0.0, momentum=0.9, ns_coefficients=(2.0, -1.5, 0.5), ns_steps=3),
    ),
}


def run_jax(kwargs: dict, dtype: str) -> dict[str, np.ndarray]:
    with jax.enable_x64(True):
        tx = js.muon(**kwargs)
        params = {k: jnp.asarray(v, dtype) for k, v in MATRICES.items()}
        state = tx.init(params)
        step_fn = jax.jit(tx.update)
        for step in range(STEPS):
            grads = _grads({k: np.asarray(p) for k, p in params.items()}, step)
            grads = {k: jnp.asarray(g, dtype) for k, g in grads.items()}
            updates, state = step_fn(grads, state, params)
            params = js.apply_updates(params, updates)
        return {k: np.asarray(p, np.float64) for k, p in params.items()}


def run_torch(kwargs: dict, dtype: str) -> dict[str, np.ndarray]:
    import torch

    tensors = {k: torch.tensor(v, dtype=getattr(torch, dtype)) for k, v in MATRICES.items()}
    optimizer = torch.optim.Muon(list(tensors.values()), **kwargs)
    for step in range(STEPS):
        for k, g in _grads({k: t.numpy() for k, t in tensors.items()}, step).items():
            tensors[k].grad = torch.tensor(g, dtype=tensors[k].dtype)
        optimizer.step()
    return {k: t.double().numpy() for k, t in tensors.items()}


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_live_torch_at_bfloat16_level(name, dtype):
    jax_kwargs, torch_kwargs = CASES[name]
    actual, expected = run_jax(jax_kwargs, dtype), run_torch(torch_kwargs, dtype)
    for k in MATRICES:
        assert np.max(np.abs(expected[k] - MATRICES[k])) > 0.05, f"{name}: {k} barely moved"
        deviation = np.max(np.abs(actual[k] - expected[k])) / np.max(np.abs(expected[k]))
        assert deviation < BFLOAT16_RTOL, f"{name} ({dtype}): {k} deviates by {deviation:.2e}"


_HYPERPARAMS = dict(
    learning_rate=0.02, weight_decay=0.1, momentum=0.9, ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7
)
_CHANGED = dict(learning_rate=0.05, weight_decay=0.3, momentum=0.5, ns_coefficients=(3.0, -3.0, 1.0), eps=100.0)
_INVALID = [
    (dict(learning_rate=-1e-3), ValueError, ("learning_rate", "-0.001")),
    (dict(weight_decay=-0.5), ValueError, ("weight_decay", "-0.5")),
    (dict(momentum=-0.5), ValueError, ("momentum", "-0.5")),
    (dict(eps=-1e-7), ValueError, ("eps", "-1e-07")),
    (dict(nesterov=1), TypeError, ("nesterov", "True or False")),
    (dict(ns_steps=0), ValueError, ("ns_steps", ">= 1", "0")),
    (dict(ns_steps=100), ValueError, ("ns_steps", "<= 99", "100")),
    (dict(ns_steps=2.5), TypeError, ("ns_steps", "integer", "2.5")),
    (dict(ns_coefficients=(3.4, -4.7)), TypeError, ("ns_coefficients", "triple")),
    (dict(ns_coefficients=(3.4, "b", 2.0)), TypeError, ("ns_coefficients[1]", "'b'")),
    (dict(adjust_lr_fn="rms"), ValueError, ("adjust_lr_fn", "'original'", "'match_rms_adamw'", "'rms'")),
]

(
    test_rejects_invalid_arguments,
    test_defaults_match_torch,
    test_get_hyperparams_names_every_numeric_argument,
    test_set_hyperparams_changes_next_updates,
) = contract_tests(
    js.muon,
    "Muon",
    _HYPERPARAMS,
    _CHANGED,
    _INVALID,
    structural=("ns_steps", "adjust_lr_fn"),
    params={"a_matrix": PARAMS0["a_matrix"]},
)


def test_init_refuses_a_non_matrix_naming_its_path_and_shape():
    params = {"layer": {"kernel": jnp.zeros((3, 4)), "bias": jnp.zeros(4)}}
    with pytest.raises(ValueError, match=r"\['layer'\]\['bias'\] has shape \(4,\)"):
        js.muon().init(params)


def test_momentum_buffer_is_torchs_and_weight_decay_uses_the_unadjusted_rate():
    # one step from zero: buf = lerp(0, g, 1 - momentum) = (1 - momentum) g; nesterov off, so O = NS(buf)
    params = {"w": jnp.ones((8, 2))}
    grads = {"w": jnp.linspace(-1.0, 1.0, 16).reshape(8, 2)}
    tx = js.muon(0.1, weight_decay=0.5, momentum=0.9, nesterov=False)
    updates, state = tx.update(grads, tx.init(params), params)
    np.testing.assert_allclose(state.inner_state.momentum_buffer["w"], 0.1 * grads["w"], rtol=1e-6)
    undecayed, _ = js.muon(0.1, weight_decay=0.0, momentum=0.9, nesterov=False).update(grads, tx.init(params), params)
    np.testing.assert_allclose(updates["w"] - undecayed["w"], -0.1 * 0.5 * params["w"], rtol=1e-5)
    # "original" adjusts an (8, 2) matrix's rate by sqrt(8 / 2) = 2: RMS of the orthogonal factor is 1/sqrt(8)
    np.testing.assert_allclose(jnp.sqrt(jnp.mean(undecayed["w"] ** 2)), 0.1 * 2 / np.sqrt(8), rtol=0.3)


def test_pairs_with_adamw_through_partition_by_ndim():
    params = {"dense": {"kernel": jnp.linspace(-1.0, 1.0, 12).reshape(4, 3), "bias": jnp.zeros(3)}}

    def by_ndim(params):
        return jax.tree.map(lambda x: "muon" if x.ndim == 2 else "adamw", params)

    tx = js.partition({"muon": js.muon(0.02), "adamw": js.adamw(1e-3)}, by_ndim)
    state = tx.init(params)
    assert state.inner_states["muon"].inner_state.momentum_buffer["dense"]["bias"] is None
    updates, state = jax.jit(tx.update)(jax.tree.map(jnp.cos, params), state, params)
    assert updates["dense"]["kernel"].shape == (4, 3) and updates["dense"]["bias"].shape == (3,)
    assert float(js.get_hyperparams(state)["muon"]["learning_rate"]) == pytest.approx(0.02)


def test_one_compile_with_set_hyperparams_inside_the_jitted_step():
    tx = js.muon(0.02)
    params = {"w": jnp.linspace(-1.0, 1.0, 12).reshape(4, 3)}
    traces = []

    @jax.jit
    def step(params, state, learning_rate, momentum):
        traces.append(None)
        state = js.set_hyperparams(state, learning_rate=learning_rate, momentum=momentum)
        updates, state = tx.update(jax.tree.map(jnp.sin, params), state, params)
        return js.apply_updates(params, updates), state

    state = tx.init(params)
    for i in range(4):
        params, state = step(params, state, 0.02 / (i + 1), 0.9 + 0.01 * i)
    assert len(traces) == 1
    assert float(js.get_hyperparams(state)["learning_rate"]) == pytest.approx(0.005)


def test_mixed_float32_bfloat16_matrices_keep_their_dtypes():
    params = {
        "f32": jnp.linspace(-1.0, 1.0, 12, dtype=jnp.float32).reshape(4, 3),
        "bf16": jnp.ones((3, 5), jnp.bfloat16),
    }
    tx = js.muon(0.02)
    state = tx.init(params)
    dtypes = jax.tree.map(lambda x: x.dtype, state)
    assert state.inner_state.momentum_buffer["bf16"].dtype == jnp.float32  # state at least float32
    step_fn = jax.jit(tx.update)
    for step in range(3):
        grads = jax.tree.map(lambda p: jnp.cos(p * (step + 1)).astype(p.dtype), params)
        updates, state = step_fn(grads, state, params)
        for k in params:
            assert updates[k].dtype == params[k].dtype and bool(jnp.all(jnp.isfinite(updates[k])))
        params = js.apply_updates(params, updates)
        assert jax.tree.map(lambda x: x.dtype, state) == dtypes
    for leaf in jax.tree.leaves(js.get_hyperparams(state)):
        assert leaf.dtype == jnp.float32


def test_vmap_over_learning_rates_equals_loop():
    tx = js.muon(0.02)
    params = {"w": jnp.linspace(-1.0, 1.0, 12).reshape(4, 3)}

    def train(learning_rate):
        p, state = params, js.set_hyperparams(tx.init(params), learning_rate=learning_rate)
        for i in range(3):
            updates, state = tx.update(jax.tree.map(lambda x: jnp.cos(x + i), p), state, p)
            p = js.apply_updates(p, updates)
        return p

    learning_rates = jnp.array([0.001, 0.02, 0.1])
    swept = jax.jit(jax.vmap(train))(learning_rates)
    for i, learning_rate in enumerate(learning_rates):
        np.testing.assert_allclose(swept["w"][i], train(float(learning_rate))["w"], rtol=1e-5, atol=1e-7)
