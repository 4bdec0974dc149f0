"""Table-driven bad input: every entry must raise ValueError/TypeError at construction, naming the argument.

Nothing here may reach jit, produce NaN, or pass silently. The optimizers' bad arguments are the
``invalid`` lists of tests/optim_db.py (checked by tests/test_optimizers.py).
"""

import pytest

import jaxsched as js
from jaxsched import schedules as S
from tests.optim_db import OPTIM_DB

NAN = float("nan")
CONST = S.constant(0.1)

BAD_INPUTS = [
    # --- schedules ----------------------------------------------------------------------------------
    (lambda: S.step_decay(0.1, 0), ValueError, "step_size"),
    (lambda: S.step_decay(0.1, 2.5), TypeError, "step_size"),
    (lambda: S.multistep_decay(0.1, [30, -10]), ValueError, "milestones"),
    (lambda: S.multistep_decay(0.1, "30"), TypeError, "milestones"),
    (lambda: S.exponential_decay(0.1, 0.9, decay_steps=0), ValueError, "decay_steps"),
    (lambda: S.polynomial_decay(0.1, 0), ValueError, "decay_steps"),
    (lambda: S.inverse_time_decay(0.1, 0.5, 0), ValueError, "decay_steps"),
    (lambda: S.natural_exp_decay(0.1, 0.5, -3), ValueError, "decay_steps"),
    (lambda: S.cosine_annealing(0.1, 0), ValueError, "t_max"),
    (lambda: S.cosine_decay(0.1, -5), ValueError, "decay_steps"),
    (lambda: S.cosine_annealing_warm_restarts(0.1, 0), ValueError, "t_0"),
    (lambda: S.cosine_annealing_warm_restarts(0.1, 10, t_mult=0), ValueError, "t_mult"),
    (lambda: S.cosine_decay_restarts(0.1, 0), ValueError, "first_decay_steps"),
    (lambda: S.cyclic(0.1, 1.0, step_size_up=0), ValueError, "step_size_up"),
    (lambda: S.cyclic(0.1, 1.0, mode="sawtooth"), ValueError, "mode"),
    (lambda: S.cyclic(0.1, 1.0, scale_mode="epochs"), ValueError, "scale_mode"),
    (lambda: S.cyclic_momentum(0.8, 0.9, step_size_down=0), ValueError, "step_size_down"),
    (lambda: S.one_cycle(0.1, 0), ValueError, "total_steps"),
    (lambda: S.one_cycle(0.1, 100, pct_start=1.5), ValueError, "pct_start"),
    (lambda: S.one_cycle(0.1, 100, anneal_strategy="exp"), ValueError, "anneal_strategy"),
    (lambda: S.one_cycle_momentum(100, pct_start=-0.1), ValueError, "pct_start"),
    (lambda: S.linear(0.0, 1.0, 0), ValueError, "total_steps"),
    (lambda: S.piecewise_constant([10, 20], [1.0, 0.1]), ValueError, "values"),
    (lambda: S.piecewise_constant([20, 10], [1.0, 0.1, 0.01]), ValueError, "boundaries"),
    (lambda: S.piecewise_linear([0, 10], [1.0]), ValueError, "values"),
    (lambda: S.lambda_lr(0.1, 0.5), TypeError, "lr_lambda"),
    (lambda: S.multiplicative(0.1, None), TypeError, "lr_lambda"),
    (lambda: S.constant(NAN), ValueError, "value"),
    (lambda: S.inverse_sqrt_decay("0.1"), TypeError, "init_value"),
    # --- combinators ---------------------------------------------------------------------------------
    (lambda: S.warmup(CONST, -1), ValueError, "warmup_steps"),
    (lambda: S.warmup(0.1, 10), TypeError, "schedule"),
    (lambda: S.join([CONST, CONST], [10, 20]), ValueError, "boundaries"),
    (lambda: S.join([CONST, CONST], [-5]), ValueError, "boundaries"),
    (lambda: S.product(), TypeError, "schedules"),
    (lambda: S.per_epoch(CONST, 0), ValueError, "steps_per_epoch"),
    (lambda: js.chain(js.sgd(0.1), None), TypeError, "chain argument 1"),
    (lambda: js.skip_non_finite(js.sgd(0.1), max_consecutive_skips=-1), ValueError, "max_consecutive_skips"),
    # --- plateau -------------------------------------------------------------------------------------
    (lambda: js.reduce_on_plateau(factor=1.0), ValueError, "factor"),
    (lambda: js.reduce_on_plateau(factor=-0.1), ValueError, "factor"),
    (lambda: js.reduce_on_plateau(mode="minimize"), ValueError, "mode"),
    (lambda: js.reduce_on_plateau(threshold_mode="relative"), ValueError, "threshold_mode"),
    (lambda: js.reduce_on_plateau(patience=-1), ValueError, "patience"),
    (lambda: js.reduce_on_plateau(patience=1.5), TypeError, "patience"),
    (lambda: js.reduce_on_plateau(cooldown=-2), ValueError, "cooldown"),
    (lambda: js.reduce_on_plateau(threshold=-1e-4), ValueError, "threshold"),
    (lambda: js.reduce_on_plateau(eps=-1.0), ValueError, "eps"),
    (lambda: js.reduce_on_plateau(min_lr=-1.0), ValueError, "min_lr"),
    (lambda: js.reduce_on_plateau(min_lr={"a": 0.0, "b": 0.0}).init({"a": 0.1}), ValueError, "min_lr"),
    (lambda: js.reduce_on_plateau().init(-0.1), ValueError, "lr"),
]


@pytest.mark.parametrize("make, error, argument", BAD_INPUTS, ids=[f"{i}-{e[2]}" for i, e in enumerate(BAD_INPUTS)])
def test_bad_input_raises_naming_the_argument(make, error, argument):
    with pytest.raises(error) as info:
        make()
    assert argument in str(info.value), f"message does not name {argument!r}: {info.value}"


def test_tables_are_large_enough():
    assert len(BAD_INPUTS) >= 45
    assert sum(len(info.invalid) for info in OPTIM_DB) >= 100
