"""Generic tests of every optimizer in tests/optim_db.py: the contract of a constructor and torch parity.

Contract: argument validation, the reference's defaults, hyperparameters readable and settable in
the state, float32 math for low-precision parameters. Parity: every case against the stored golden
trajectory of its reference (torch.optim or a reference package), and against the live reference
when it is installed.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsched as js
from jaxsched.testing import strategies as jst
from tests.optim_checks import assert_mixed_pytree_keeps_dtypes, run_updates
from tests.optim_db import FIRST_ORDER, OPTIM_DB, PARITY_CASES
from tests.optim_parity import (
    PARAMS0,
    TORCH_NAMES,
    assert_trajectories_close,
    golden,
    grads_at,
    has_reference,
    optimizer_class_of,
    run_jax,
    run_torch,
)

# Enough updates for every hyperparameter to show (RAdam rectifies from update 6 on).
UPDATES_PER_CHECK = 8


def over(infos):
    return pytest.mark.parametrize("info", infos, ids=[info.name for info in infos])


# --- contract ------------------------------------------------------------------------------------

INVALID = [(info, *invalid) for info in OPTIM_DB for invalid in info.invalid]


@pytest.mark.parametrize(
    "info, kwargs, error, texts",
    INVALID,
    # a schedule by its name: a function's repr holds its address, which differs between xdist workers
    ids=[
        f"{info.name}-{ {k: getattr(v, '__name__', v) for k, v in kwargs.items()}!r}" for info, kwargs, _, _ in INVALID
    ],
)
def test_rejects_invalid_arguments(info, kwargs, error, texts):
    with pytest.raises(error) as raised:
        info.make(**kwargs)
    for text in texts:
        assert text in str(raised.value)


@over(OPTIM_DB)
def test_defaults_match_the_reference(info):
    if not has_reference(info.torch_optimizer):
        pytest.skip(f"{info.torch_optimizer} not installed")
    reference = inspect.signature(optimizer_class_of(info.torch_optimizer)).parameters
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in reference.values())
    for name, parameter in inspect.signature(info.make).parameters.items():
        if TORCH_NAMES.get(name, name) not in reference:
            # pytorch_optimizer's Lamb reads adam_debias and adanorm from **kwargs, unseen by inspect
            assert takes_kwargs, f"{name} is not an argument of {info.torch_optimizer}"
            continue
        assert reference[TORCH_NAMES.get(name, name)].default == parameter.default, name


@over(OPTIM_DB)
def test_get_hyperparams_names_every_numeric_argument(info):
    parameters = inspect.signature(info.make).parameters.items()
    numeric = {name for name, p in parameters if not isinstance(p.default, bool) and name not in info.static}
    assert set(info.hyperparams) == numeric
    # with the options: some hyperparameters are held only when an option uses them (lamb's max_grad_norm)
    values = js.get_hyperparams(info.build().init(PARAMS0))
    assert set(values) == numeric
    for name, expected in info.hyperparams.items():
        np.testing.assert_allclose(np.asarray(values[name], np.float64), expected, rtol=1e-7, err_msg=name)


CHANGED = [(info, name) for info in FIRST_ORDER for name in sorted(info.changed)]


@pytest.mark.parametrize("info, name", CHANGED, ids=[f"{info.name}-{name}" for info, name in CHANGED])
def test_set_hyperparams_changes_next_updates(info, name):
    value = info.changed[name]
    tx = info.build()
    adjusted, _ = run_updates(tx, UPDATES_PER_CHECK, set_before=0, **{name: value})
    constructed, _ = run_updates(info.build(**{name: value}), UPDATES_PER_CHECK)
    np.testing.assert_allclose(adjusted, constructed, rtol=1e-13)
    unchanged, _ = run_updates(tx, UPDATES_PER_CHECK)
    assert not np.array_equal(adjusted, unchanged), f"setting {name} changed nothing"


@over([info for info in OPTIM_DB if info.has_betas])
def test_bfloat16_params_get_float32_math_and_bfloat16_updates(info):
    tx = info.build(betas=(0.9, 0.999))  # bfloat16 would round beta2 to 1
    low = {k: jnp.asarray(v, jnp.bfloat16) for k, v in PARAMS0.items()}
    high = {k: v.astype(jnp.float32) for k, v in low.items()}
    low_state, high_state = tx.init(low), tx.init(high)
    for step in range(3):
        grads = {k: jnp.asarray(g, jnp.bfloat16) for k, g in grads_at(PARAMS0, step).items()}
        low_updates, low_state = tx.update(grads, low_state, low)
        high_updates, high_state = tx.update({k: g.astype(jnp.float32) for k, g in grads.items()}, high_state, high)
        for k in low:
            assert low_updates[k].dtype == jnp.bfloat16
            # The same float32 math as for float32 parameters, rounded to bfloat16 only at the end.
            np.testing.assert_array_equal(low_updates[k], high_updates[k].astype(jnp.bfloat16))
    floats = [x for x in jax.tree.leaves(low_state) if jnp.issubdtype(x.dtype, jnp.floating)]
    assert floats and all(x.dtype == jnp.float32 for x in floats)
    jax.tree.map(np.testing.assert_array_equal, low_state, high_state)
    beta2 = js.get_hyperparams(low_state)["betas"][1]
    assert beta2.dtype == jnp.float32 and beta2 == np.float32(0.999)


@over(FIRST_ORDER)
def test_mixed_pytree_keeps_dtypes(info):
    assert_mixed_pytree_keeps_dtypes(info.build())


def test_strategies_sample_every_first_order_optimizer():
    # jaxsched.testing cannot import tests/: its sampling ranges are kept there, under the same names.
    assert set(jst.OPTIMIZER_ARGUMENTS) == {info.name for info in FIRST_ORDER}
    for info in FIRST_ORDER:
        assert set(jst.OPTIMIZER_ARGUMENTS[info.name]) <= set(inspect.signature(info.make).parameters), info.name


# --- parity with torch ---------------------------------------------------------------------------


def test_parity_case_names_are_unique():
    assert len(PARITY_CASES) == sum(len(info.parity) for info in OPTIM_DB)


@pytest.mark.parametrize("name", sorted(PARITY_CASES))
def test_matches_golden_torch_trajectory(name):
    case = PARITY_CASES[name]
    assert_trajectories_close(run_jax(case), golden(name), name, case.rtol)


@pytest.mark.parametrize("name", sorted(PARITY_CASES))
def test_matches_live_torch(name):
    case = PARITY_CASES[name]
    if not has_reference(case.torch_optimizer):
        pytest.skip(f"{case.torch_optimizer} not installed (golden values still checked)")
    assert_trajectories_close(run_jax(case), run_torch(case), name, case.rtol)
