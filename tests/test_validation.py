"""Table-driven bad input: every entry must raise ValueError/TypeError at construction, naming the argument.

Nothing here may reach jit, produce NaN, or pass silently.
"""

import jax.numpy as jnp
import pytest

import jaxsched as js
from jaxsched import schedules as S

NAN, INF = float("nan"), float("inf")
CONST = S.constant(0.1)

BAD_INPUTS = [
    # --- optimizers: torch's checks and more ------------------------------------------------------
    (lambda: js.sgd(-0.1), ValueError, "learning_rate"),
    (lambda: js.sgd(NAN), ValueError, "learning_rate"),
    (lambda: js.sgd(0.1, momentum=-0.9), ValueError, "momentum"),
    (lambda: js.sgd(0.1, dampening=-1.0), ValueError, "dampening"),
    (lambda: js.sgd(0.1, weight_decay=-1e-4), ValueError, "weight_decay"),
    (lambda: js.sgd(0.1, nesterov=True), ValueError, "nesterov"),
    (lambda: js.sgd(0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError, "nesterov"),
    (lambda: js.sgd("0.1"), TypeError, "learning_rate"),
    (lambda: js.sgd(0.1, maximize="yes"), TypeError, "maximize"),
    (lambda: js.sgd(jnp.ones(3)), TypeError, "learning_rate"),
    (lambda: js.adam(1e-3, betas=(1.0, 0.999)), ValueError, "betas[0]"),
    (lambda: js.adam(1e-3, betas=(0.9, 1.5)), ValueError, "betas[1]"),
    (lambda: js.adam(1e-3, betas=0.9), TypeError, "betas"),
    (lambda: js.adam(1e-3, eps=-1e-8), ValueError, "eps"),
    (lambda: js.adam(1e-3, amsgrad=1), TypeError, "amsgrad"),
    (lambda: js.adamw(1e-3, weight_decay=-0.01), ValueError, "weight_decay"),
    (lambda: js.adamax(-2e-3), ValueError, "learning_rate"),
    (lambda: js.nadam(2e-3, momentum_decay=-4e-3), ValueError, "momentum_decay"),
    (lambda: js.nadam(2e-3, decoupled_weight_decay="no"), TypeError, "decoupled_weight_decay"),
    (lambda: js.radam(1e-3, betas=(0.9, -0.1)), ValueError, "betas[1]"),
    (lambda: js.sparse_adam(1e-3, eps=-1.0), ValueError, "eps"),
    (lambda: js.asgd(0.01, lambd=-1e-4), ValueError, "lambd"),
    (lambda: js.asgd(0.01, alpha=-0.75), ValueError, "alpha"),
    (lambda: js.asgd(0.01, t0=-1.0), ValueError, "t0"),
    (lambda: js.rprop(0.01, etas=(1.5, 1.2)), ValueError, "etas"),
    (lambda: js.rprop(0.01, etas=(0.5, 0.9)), ValueError, "etas"),
    (lambda: js.rprop(0.01, step_sizes=(50.0, 1e-6)), ValueError, "step_sizes"),
    (lambda: js.rprop(0.01, step_sizes=1e-6), TypeError, "step_sizes"),
    (lambda: js.adagrad(0.01, lr_decay=-0.1), ValueError, "lr_decay"),
    (lambda: js.adagrad(0.01, initial_accumulator_value=-0.1), ValueError, "initial_accumulator_value"),
    (lambda: js.adagrad(0.01, eps=INF), ValueError, "eps"),
    (lambda: js.adadelta(1.0, rho=1.5), ValueError, "rho"),
    (lambda: js.adadelta(1.0, eps=-1e-6), ValueError, "eps"),
    (lambda: js.rmsprop(0.01, alpha=-0.99), ValueError, "alpha"),
    (lambda: js.rmsprop(0.01, momentum=-0.9), ValueError, "momentum"),
    (lambda: js.rmsprop(0.01, centered="true"), TypeError, "centered"),
    (lambda: js.lbfgs(1.0, max_iter=0), ValueError, "max_iter"),
    (lambda: js.lbfgs(1.0, history_size=0), ValueError, "history_size"),
    (lambda: js.lbfgs(1.0, line_search_fn="wolfe"), ValueError, "line_search_fn"),
    (lambda: js.lbfgs(1.0, tolerance_grad=-1.0), ValueError, "tolerance_grad"),
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


def test_table_is_large_enough():
    assert len(BAD_INPUTS) >= 60
