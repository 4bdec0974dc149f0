"""js.fused: the one-pass compiled kernel (when built) and its pure-JAX fallback, on packed state.

Kernel and fallback are compared to torch (float64, the golden trajectories and live torch), to each
other (float32) and to ``torch.optim.<name>(fused=True)`` (float32). The kernel rounds each operation
once, in the order XLA compiles the pure-JAX math to; XLA itself contracts some multiply-adds into
FMAs on CPUs that have them, so the two differ by a few roundings per step: KERNEL_VS_FALLBACK_RTOL
below bounds that, relative to each leaf's largest value (an ulp bound is meaningless where a moment
cancels to near zero). With XLA's FMAs off they agree bit for bit.
"""

import json
import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from jaxsched._fused import MAX_LEAVES_PER_CALL, kernel_module
from tests.optim_db import OPTIMIZERS
from tests.optim_parity import HAS_TORCH, assert_trajectories_close, golden, run_jax, run_torch

HAS_KERNEL = kernel_module() is not None
needs_kernel = pytest.mark.skipif(not HAS_KERNEL, reason="the compiled kernel is not built")
FUSIBLE = ("adam", "adamw", "sgd", "rmsprop", "adagrad", "adamax", "nadam", "radam", "lion")
CASES = {
    name: case
    for optimizer in FUSIBLE
    for name, case in OPTIMIZERS[optimizer].parity.items()
    if case.second_group is None and case.make_jax_groups is None
}
# Every structural variant the kernel has, with weight decay and maximize where the optimizer has them.
CONFIGS = {
    "adam": lambda: js.adam(1e-2),
    "adam_l2_amsgrad_maximize": lambda: js.adam(1e-2, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True, maximize=True),
    "adamw": lambda: js.adamw(1e-2, weight_decay=0.1),
    "adamw_amsgrad": lambda: js.adamw(1e-2, amsgrad=True),
    "sgd_momentum_dampening_l2": lambda: js.sgd(0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd_nesterov_maximize": lambda: js.sgd(0.1, momentum=0.9, nesterov=True, maximize=True),
    "rmsprop": lambda: js.rmsprop(1e-2),
    "rmsprop_centered": lambda: js.rmsprop(1e-2, alpha=0.3, centered=True),
    "rmsprop_momentum": lambda: js.rmsprop(1e-2, momentum=0.5),
    "rmsprop_centered_momentum_l2": lambda: js.rmsprop(1e-2, centered=True, momentum=0.9, weight_decay=0.1),
    "adagrad": lambda: js.adagrad(1e-1),
    "adagrad_decay_accumulator_l2": lambda: js.adagrad(
        1e-1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.1
    ),
    "adamax": lambda: js.adamax(1e-2),
    "adamax_l2_maximize": lambda: js.adamax(1e-2, betas=(0.8, 0.9), weight_decay=0.1, maximize=True),
    "nadam": lambda: js.nadam(1e-2),
    "nadam_decoupled": lambda: js.nadam(1e-2, weight_decay=0.1, momentum_decay=0.01, decoupled_weight_decay=True),
    # rho_t passes 5 at the 6th step with these betas: both of RAdam's branches run
    "radam": lambda: js.radam(1e-2),
    "radam_l2_maximize": lambda: js.radam(1e-2, betas=(0.9, 0.99), weight_decay=0.1, maximize=True),
    "radam_decoupled": lambda: js.radam(1e-2, weight_decay=0.1, decoupled_weight_decay=True),
    "lion": lambda: js.lion(1e-3),
    "lion_decay": lambda: js.lion(1e-3, betas=(0.8, 0.95), weight_decay=0.1),
    "lion_decoupled_decay": lambda: js.lion(1e-3, weight_decay=0.1, decoupled_weight_decay=True),
}
KERNEL_VS_FALLBACK_RTOL = 1e-5  # float32, after STEPS steps, relative to each leaf's largest value
STEPS = 8


def custom_calls(tx, params, grads) -> int:
    state = tx.init(params)
    return jax.jit(tx.update).lower(grads, state, params).as_text().count("jaxsched_fused_update")


def random_params(shapes, seed=0, dtype=jnp.float32):
    rng = np.random.RandomState(seed)
    return {f"leaf{i:03d}": jnp.asarray(rng.randn(*shape), dtype) for i, shape in enumerate(shapes)}


def random_grads(params, step):
    rng = np.random.RandomState(1000 + step)
    return jax.tree.map(lambda p: jnp.asarray(rng.randn(*p.shape), p.dtype), params)


def trajectory(tx, params, steps=STEPS):
    """Params and state after ``steps`` jitted steps on random gradients."""
    state = tx.init(params)

    @jax.jit
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state

    for i in range(steps):
        params, state = step(params, state, random_grads(params, i))
    return params, state


def assert_close_relative_to_scale(actual, expected, rtol):
    assert jax.tree.structure(actual) == jax.tree.structure(expected)
    for a, b in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        scale = float(np.max(np.abs(b), initial=0.0))
        np.testing.assert_allclose(a, b, rtol=0, atol=rtol * scale + 1e-30)


# --- the kernel is there where it should be --------------------------------------------------------


def test_kernel_loaded_where_expected():
    """CI builds the extension (``JAXSCHED_EXPECT_KERNEL=1`` in ``.ci/run``): a failed build must not pass silently."""
    if os.environ.get("JAXSCHED_EXPECT_KERNEL") != "1":
        pytest.skip("JAXSCHED_EXPECT_KERNEL is not set")
    assert HAS_KERNEL, "the compiled kernel jaxsched._fused_kernel did not import"


@needs_kernel
@pytest.mark.parametrize("x64", [False, True], ids=["float32", "float64"])
def test_kernel_runs_the_step_in_its_dtypes(x64):
    with jax.enable_x64(x64):
        params = random_params([(3, 4), (5,)], dtype=jnp.float64 if x64 else jnp.float32)
        assert custom_calls(js.fused(js.adam(1e-3)), params, params) == 1
        assert custom_calls(js.fused(js.adam(1e-3), kernel=False), params, params) == 0


@needs_kernel
def test_leaves_are_split_over_calls_of_at_most_64():
    params = random_params([(3,)] * (2 * MAX_LEAVES_PER_CALL + 5))
    assert custom_calls(js.fused(js.adam(1e-3)), params, params) == 3
    kernel, fallback = (trajectory(js.fused(js.adam(1e-2), kernel=k), params) for k in (True, False))
    assert_close_relative_to_scale(kernel, fallback, KERNEL_VS_FALLBACK_RTOL)


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "fallback"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_float64_parity_with_torch(name, kernel):
    if kernel and not HAS_KERNEL:
        pytest.skip("the compiled kernel is not built")
    actual = run_jax(CASES[name], wrap=lambda tx: js.fused(tx, kernel=kernel))
    assert_trajectories_close(actual, golden(name), f"fused({name}, kernel={kernel}) vs golden torch")
    if HAS_TORCH:
        assert_trajectories_close(actual, run_torch(CASES[name]), f"fused({name}, kernel={kernel}) vs live torch")


@needs_kernel
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_kernel_matches_fallback_in_float32(name):
    params = random_params([(7, 3), (1000,), (), (0,), (2, 2, 2)])
    kernel, fallback = (trajectory(js.fused(CONFIGS[name](), kernel=k), params) for k in (True, False))
    assert_close_relative_to_scale(kernel, fallback, KERNEL_VS_FALLBACK_RTOL)


def differing_elements_without_fma() -> dict[str, int]:
    """Per config, elements where kernel and fallback differ (run with XLA's FMAs off, see below)."""
    params = random_params([(7, 3), (1000,), (), (2, 2, 2)])
    counts = {}
    for name, make in CONFIGS.items():
        kernel, fallback = (trajectory(js.fused(make(), kernel=k), params) for k in (True, False))
        counts[name] = sum(
            int(np.sum(np.asarray(a) != np.asarray(b)))
            for a, b in zip(jax.tree.leaves(kernel), jax.tree.leaves(fallback))
        )
    return counts


@needs_kernel
def test_kernel_equals_fallback_bit_for_bit_when_xla_uses_no_fma():
    """With XLA limited to AVX (no FMA), the fallback rounds each operation once, like the kernel:
    then params and state agree to the last bit for every optimizer and flag."""
    code = "import json; from tests.test_fused import differing_elements_without_fma as f; print(json.dumps(f()))"
    root = str(pathlib.Path(__file__).parent.parent)
    env = {**os.environ, "XLA_FLAGS": "--xla_cpu_max_isa=AVX", "PYTHONPATH": root}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env, cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts == dict.fromkeys(CONFIGS, 0)


@needs_kernel
@pytest.mark.parametrize("x64", [False, True], ids=["float32", "float64"])
def test_every_instruction_set_gives_the_same_bits(x64):
    """The loops are compiled for SSE2, AVX2 and AVX-512 (without FMA) and chosen by the CPU: each
    available one gives the baseline's numbers exactly, for every optimizer and flag."""
    module = kernel_module()
    chosen = module.isa()
    results = {}
    try:
        with jax.enable_x64(x64):
            params = random_params([(7, 3), (1000,), (), (2, 2, 2)], dtype=jnp.float64 if x64 else jnp.float32)
            for isa in module.isas():
                module.use_isa(isa)
                results[isa] = {name: trajectory(js.fused(make()), params) for name, make in CONFIGS.items()}
    finally:
        module.use_isa(chosen)
    for isa, trajectories in results.items():
        for name in CONFIGS:
            for a, b in zip(jax.tree.leaves(trajectories[name]), jax.tree.leaves(results["generic"][name])):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=f"{isa} vs generic: {name}")


@needs_kernel
@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize(
    "make, torch_name, torch_kwargs",
    [
        (lambda: js.adam(1e-3), "Adam", dict(lr=1e-3)),
        (lambda: js.adamw(1e-3, amsgrad=True), "AdamW", dict(lr=1e-3, amsgrad=True)),
        (lambda: js.sgd(1e-2, momentum=0.9), "SGD", dict(lr=1e-2, momentum=0.9)),
        (lambda: js.adagrad(1e-2), "Adagrad", dict(lr=1e-2)),
    ],
    ids=["adam", "adamw_amsgrad", "sgd_momentum", "adagrad"],
)
def test_float32_agreement_with_torch_fused(make, torch_name, torch_kwargs):
    """100 float32 steps: within 5e-6 of ``torch.optim.<name>(fused=True)``, relative to each leaf's scale.

    Measured (AVX2 machine, torch 2.13), kernel vs torch fused and [the fallback vs torch fused]: Adam
    8.5e-8 [8.5e-8], AdamW with AMSGrad 2.8e-6 [2.8e-6: jaxsched's float32 AdamW, not the kernel],
    SGD momentum 2.1e-7 [5e-8], Adagrad 4.3e-8 [0]. torch applies ``p + (-lr) * d`` with an FMA, as
    XLA's fallback does; the kernel returns the update and ``apply_updates`` adds it, rounding twice.
    """
    import torch

    params = random_params([(64, 33), (100,)])
    tensors = [torch.nn.Parameter(torch.from_numpy(np.array(p))) for p in params.values()]
    optimizer = getattr(torch.optim, torch_name)(tensors, fused=True, **torch_kwargs)
    tx = js.fused(make())
    state = tx.init(params)
    step = jax.jit(lambda p, s, g: (lambda u, s: (js.apply_updates(p, u), s))(*tx.update(g, s, p)))
    for i in range(100):
        grads = random_grads(params, i)
        for tensor, grad in zip(tensors, grads.values()):
            tensor.grad = torch.from_numpy(np.array(grad))
        optimizer.step()
        params, state = step(params, state, grads)
    expected = {k: t.detach().numpy() for k, t in zip(params, tensors)}
    assert_close_relative_to_scale(params, expected, 5e-6)


# --- the optimizer's contract, unchanged ---------------------------------------------------------


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "fallback"])
def test_one_compile_across_hyperparameter_changes(kernel):
    tx = js.fused(js.adam(1e-3, betas=(0.9, 0.99), weight_decay=0.1), kernel=kernel)
    params = random_params([(3, 4), (5,)])
    state = tx.init(params)

    @jax.jit
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return js.apply_updates(params, updates), state

    for i, (lr, beta1) in enumerate([(1e-3, 0.9), (5e-3, 0.8), (1e-2, 0.5)]):
        state = js.set_hyperparams(state, learning_rate=lr, betas=(beta1, 0.99))
        assert js.get_hyperparams(state)["learning_rate"] == pytest.approx(lr)
        params, state = step(params, state, random_grads(params, i))
    assert step._cache_size() == 1


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "fallback"])
def test_schedules_and_hyperparameters_as_the_optimizer_alone(kernel):
    def make():
        return js.sgd(
            js.schedules.exponential_decay(0.1, 0.5, decay_steps=2, staircase=True), momentum=0.9, weight_decay=0.01
        )

    params = random_params([(4, 3), (6,)])
    fused_params, fused_state = trajectory(js.fused(make(), kernel=kernel), params, steps=5)
    plain_params, plain_state = trajectory(make(), params, steps=5)
    assert_close_relative_to_scale(fused_params, plain_params, KERNEL_VS_FALLBACK_RTOL)
    fused_values, plain_values = js.get_hyperparams(fused_state), js.get_hyperparams(plain_state)
    assert fused_values.keys() == plain_values.keys()
    assert all(float(fused_values[k]) == float(plain_values[k]) for k in fused_values)
    assert float(fused_values["learning_rate"]) == pytest.approx(0.025)  # 0.1 * 0.5 ** (5 // 2)


def test_state_is_packed_per_dtype():
    params = random_params([(4, 3), (6,), ()])
    state = js.fused(js.adam(1e-3, amsgrad=True)).init(params)
    assert isinstance(state, js.FusedState)
    moments = state.inner_state.inner_state
    for buffer in (moments.exp_avg, moments.exp_avg_sq, moments.max_exp_avg_sq):
        assert {k: v.shape for k, v in buffer.flat.items()} == {"float32": (19,)} and buffer.large == ()


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "fallback"])
def test_sgd_without_momentum_keeps_no_state_and_runs_as_itself(kernel):
    """No state to pack, and XLA already makes p - lr * (g + wd * p) one pass: no kernel call."""
    params = random_params([(4, 3), (6,)])
    make = lambda: js.sgd(0.1, weight_decay=0.1, maximize=True)  # noqa: E731
    tx = js.fused(make(), kernel=kernel)
    assert not any(
        isinstance(x, js.Packed) for x in jax.tree.leaves(tx.init(params), is_leaf=lambda x: isinstance(x, js.Packed))
    )
    assert custom_calls(tx, params, params) == 0
    fused_params, _ = trajectory(tx, params, steps=3)
    plain_params, _ = trajectory(make(), params, steps=3)
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(fused_params), jax.tree.leaves(plain_params)))
    stepped, _ = jax.jit(tx.step)(params, tx.init(params), params)
    plain = make()
    expected = jax.jit(lambda p, s: js.apply_updates(p, plain.update(p, s, p)[0]))(params, plain.init(params))
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(stepped), jax.tree.leaves(expected)))


@pytest.mark.parametrize("x64", [False, True], ids=["bfloat16", "float32_under_x64"])
def test_dtypes_the_kernel_lacks_fall_back(x64):
    """A bfloat16 leaf (or float32 ones under x64) sends the whole step through the pure-JAX math."""
    with jax.enable_x64(x64):
        params = random_params([(4, 3), (6,)])
        params["low"] = jnp.ones(5, jnp.float32 if x64 else jnp.bfloat16)
        if x64:
            params["wide"] = jnp.ones(3, jnp.float64)
        tx = js.fused(js.adam(1e-2))
        assert custom_calls(tx, params, params) == 0
        fused_params, _ = trajectory(tx, params, steps=3)
        plain_params, _ = trajectory(js.adam(1e-2), params, steps=3)
        assert_close_relative_to_scale(fused_params, plain_params, 1e-2 if not x64 else KERNEL_VS_FALLBACK_RTOL)


@needs_kernel
def test_checkpoint_moves_between_kernel_and_fallback(tmp_path):
    params = random_params([(4, 3), (6,)])
    kernel_tx, fallback_tx = (
        js.fused(js.adamw(1e-2, amsgrad=True)),
        js.fused(js.adamw(1e-2, amsgrad=True), kernel=False),
    )
    _, state = trajectory(kernel_tx, params, steps=3)
    js.save_state(tmp_path / "state.ckpt", state)
    restored = js.load_state(tmp_path / "state.ckpt", fallback_tx.init(params))
    assert jax.tree.structure(restored) == jax.tree.structure(state)
    grads = random_grads(params, 99)
    kernel_updates, _ = jax.jit(kernel_tx.update)(grads, state, params)
    fallback_updates, _ = jax.jit(fallback_tx.update)(grads, restored, params)
    assert_close_relative_to_scale(kernel_updates, fallback_updates, KERNEL_VS_FALLBACK_RTOL)


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "fallback"])
@pytest.mark.parametrize("wrapper", ["partition", "masked", "skip_non_finite"])
def test_wrapped_as_the_optimizer_alone(wrapper, kernel):
    params = random_params([(4, 3), (6,), (2,)])
    labels = {"leaf000": "a", "leaf001": "b", "leaf002": "a"}
    mask = {"leaf000": True, "leaf001": False, "leaf002": True}

    def wrap(make):
        if wrapper == "partition":
            return js.partition({"a": make(1e-2), "b": js.sgd(0.1)}, labels)
        if wrapper == "masked":
            return js.masked(make(1e-2), mask)
        return js.skip_non_finite(make(1e-2))

    fused_tx = wrap(lambda lr: js.fused(js.adam(lr), kernel=kernel))
    plain_tx = wrap(js.adam)
    fused_params, fused_state = trajectory(fused_tx, params)
    plain_params, _ = trajectory(plain_tx, params)
    assert_close_relative_to_scale(fused_params, plain_params, KERNEL_VS_FALLBACK_RTOL)
    if wrapper == "skip_non_finite":  # a NaN gradient leaves params and state as they were
        step = jax.jit(fused_tx.update)
        bad = jax.tree.map(lambda g: g.at[0].set(jnp.nan) if g.ndim else g, random_grads(params, 0))
        updates, skipped_state = step(bad, fused_state, fused_params)
        assert all(not np.any(np.asarray(u)) for u in jax.tree.leaves(updates))
        same = jax.tree.map(lambda a, b: np.array_equal(a, b), skipped_state.inner_state, fused_state.inner_state)
        assert all(jax.tree.leaves(same))
    if wrapper == "partition":
        assert js.get_hyperparams(fused_state)["a"]["learning_rate"] == pytest.approx(1e-2)


@needs_kernel
def test_differentiating_the_update_uses_the_fallback():
    params = random_params([(4, 3), (6,)])

    def loss_after_step(grads, kernel):
        tx = js.fused(js.adam(1e-2, weight_decay=0.1), kernel=kernel)
        updates, _ = tx.update(grads, tx.init(params), params)
        return sum(jnp.sum(jnp.sin(p + u)) for p, u in zip(jax.tree.leaves(params), jax.tree.leaves(updates)))

    grads = random_grads(params, 0)
    kernel_derivative = jax.jit(jax.grad(lambda g: loss_after_step(g, True)))(grads)
    fallback_derivative = jax.jit(jax.grad(lambda g: loss_after_step(g, False)))(grads)
    assert_close_relative_to_scale(kernel_derivative, fallback_derivative, 1e-6)
    assert jax.jit(lambda g: loss_after_step(g, True))(grads) == pytest.approx(float(loss_after_step(grads, False)))


def test_update_without_params_when_nothing_reads_them():
    params = random_params([(4, 3)])
    tx = js.fused(js.adam(1e-2))
    updates, _ = jax.jit(lambda g, s: tx.update(g, s))(params, tx.init(params))
    expected, _ = js.adam(1e-2).update(params, js.adam(1e-2).init(params))
    assert_close_relative_to_scale(updates, expected, KERNEL_VS_FALLBACK_RTOL)


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [lambda: js.adamw(1e-2), lambda: js.sgd(0.1, weight_decay=0.1), lambda: js.lion(1e-3, weight_decay=0.1)],
    ids=["adamw", "sgd_l2", "lion"],
)
@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "fallback"])
def test_weight_decay_needs_params(make, kernel):
    """As without fused: the decay term reads the parameters, so an update without them is refused."""
    params = random_params([(4, 3)])
    tx = js.fused(make(), kernel=kernel)
    with pytest.raises(ValueError, match="weight_decay"):
        tx.update(params, tx.init(params))


@pytest.mark.parametrize(
    "transform",
    [js.rprop(1e-3), js.chain(js.clip_by_global_norm(1.0), js.adam(1e-3)), js.identity()],
    ids=["rprop", "chain", "identity"],
)
def test_refuses_what_it_cannot_run(transform):
    with pytest.raises(TypeError, match="fused runs one jaxsched optimizer"):
        js.fused(transform)


def test_bad_arguments():
    with pytest.raises(TypeError, match="kernel"):
        js.fused(js.adam(1e-3), kernel="yes")
    with pytest.raises(TypeError, match="transform"):
        js.fused(lambda x: x)


def test_state_for_other_params_is_refused():
    tx = js.fused(js.adam(1e-3))
    state = tx.init(random_params([(4, 3)]))
    other = random_params([(5,)])
    with pytest.raises(ValueError, match="state does not match"):
        tx.update(other, state, other)


def test_a_leaf_on_a_one_device_mesh_is_whole_and_packed():
    """Only leaves split over several devices keep their own state (tests/sharding_script.py: 8 devices)."""
    mesh = jax.make_mesh((1,), ("data",))
    params = {
        "w": jax.device_put(jnp.ones((4, 3)), jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data")))
    }
    state = js.fused(js.adam(1e-3)).init(params)
    assert state.inner_state.inner_state.exp_avg.large == ()
    assert state.inner_state.inner_state.exp_avg.flat["float32"].shape == (12,)


def test_kernel_is_off_outside_the_tested_jaxlib_versions(monkeypatch):
    import jaxlib.version

    kernel_module.cache_clear()
    monkeypatch.setattr(jaxlib.version, "__version__", "0.11.0")
    try:
        assert kernel_module() is None
    finally:
        monkeypatch.undo()
        kernel_module.cache_clear()
    assert (kernel_module() is not None) == HAS_KERNEL


@pytest.mark.parametrize("kernel", [True, False], ids=["kernel", "fallback"])
@pytest.mark.parametrize(
    "name", ["adam_l2_amsgrad_maximize", "adamw", "sgd_nesterov_maximize", "rmsprop_centered", "adagrad"]
)
def test_step_writes_what_update_and_apply_updates_give(name, kernel):
    """``step`` (parameters written in place by the kernel) = ``update`` + ``apply_updates``."""
    tx = js.fused(CONFIGS[name](), kernel=kernel)
    params = random_params([(7, 3), (100,), ()])
    expected_params, expected_state = trajectory(tx, params, steps=3)
    step = jax.jit(tx.step, donate_argnums=(1, 2))
    state = tx.init(params)
    for i in range(3):
        params, state = step(random_grads(params, i), state, params)
    # the kernel rounds p + u exactly as apply_updates does; XLA may fuse the fallback's add differently
    rtol = 0 if kernel and HAS_KERNEL else KERNEL_VS_FALLBACK_RTOL
    assert_close_relative_to_scale((params, state), (expected_params, expected_state), rtol)


def test_step_needs_params():
    tx = js.fused(js.adam(1e-3))
    params = random_params([(3,)])
    with pytest.raises(ValueError, match="needs the current parameters"):
        tx.step(params, tx.init(params), None)


def test_empty_params():
    tx = js.fused(js.adam(1e-3))
    updates, state = jax.jit(tx.update)({}, tx.init({}), {})
    assert updates == {} and int(state.inner_state.step) == 1
