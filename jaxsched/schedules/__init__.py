"""Learning-rate schedules: pure functions ``step -> value``.

Every schedule takes an integer step (a Python int or an integer array of any shape) and returns
values in the default float dtype (float32, or float64 under ``jax_enable_x64``). Schedules work
under ``jit``, ``vmap`` and ``grad`` with respect to their float constructor arguments, and stay
exact at any int32 step: cycle positions are computed on integers before converting to float.
"""

from jaxsched.schedules.combinators import join, per_epoch, product, warmup
from jaxsched.schedules.cosine import (
    cosine_annealing,
    cosine_annealing_warm_restarts,
    cosine_decay,
    cosine_decay_restarts,
    linear_cosine_decay,
    noisy_linear_cosine_decay,
)
from jaxsched.schedules.cyclic import cyclic, cyclic_momentum, one_cycle, one_cycle_momentum
from jaxsched.schedules.decay import (
    constant,
    exponential_decay,
    inverse_sqrt_decay,
    inverse_time_decay,
    linear,
    multistep_decay,
    natural_exp_decay,
    piecewise_constant,
    piecewise_linear,
    polynomial_decay,
    step_decay,
)
from jaxsched.schedules.functional import lambda_lr, multiplicative

__all__ = [
    "constant",
    "cosine_annealing",
    "cosine_annealing_warm_restarts",
    "cosine_decay",
    "cosine_decay_restarts",
    "cyclic",
    "cyclic_momentum",
    "exponential_decay",
    "inverse_sqrt_decay",
    "inverse_time_decay",
    "join",
    "lambda_lr",
    "linear",
    "linear_cosine_decay",
    "multiplicative",
    "multistep_decay",
    "natural_exp_decay",
    "noisy_linear_cosine_decay",
    "one_cycle",
    "one_cycle_momentum",
    "per_epoch",
    "piecewise_constant",
    "piecewise_linear",
    "polynomial_decay",
    "product",
    "step_decay",
    "warmup",
]
