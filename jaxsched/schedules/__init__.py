"""Learning-rate schedules: pure functions ``step -> value``.

Every schedule takes an integer step (a Python int or an integer array of any shape) and returns
values in the default float dtype (float32, or float64 under ``jax_enable_x64``). Schedules work
under ``jit``, ``vmap`` and ``grad`` with respect to their float constructor arguments, and stay
exact at any int32 step: cycle positions are computed on integers before converting to float.

One rule for the step, in one place (``_step.as_step``): any integer type is accepted, steps
beyond the int32 range saturate at 2**31 - 1 (as the optimizers' step counters do) instead of
wrapping, narrow types are widened before a schedule's periods apply, and a negative step counts
as step 0. Step counts given to a constructor (periods, boundaries, warmups) are at most 2**31 - 1.
"""

from jaxsched.schedules._combinators import join as join
from jaxsched.schedules._combinators import per_epoch as per_epoch
from jaxsched.schedules._combinators import product as product
from jaxsched.schedules._combinators import warmup as warmup
from jaxsched.schedules._cosine import (
    cosine_annealing as cosine_annealing,
)
from jaxsched.schedules._cosine import (
    cosine_annealing_warm_restarts as cosine_annealing_warm_restarts,
)
from jaxsched.schedules._cosine import (
    cosine_decay as cosine_decay,
)
from jaxsched.schedules._cosine import (
    cosine_decay_restarts as cosine_decay_restarts,
)
from jaxsched.schedules._cosine import (
    linear_cosine_decay as linear_cosine_decay,
)
from jaxsched.schedules._cosine import (
    noisy_linear_cosine_decay as noisy_linear_cosine_decay,
)
from jaxsched.schedules._cyclic import (
    cyclic as cyclic,
)
from jaxsched.schedules._cyclic import (
    cyclic_momentum as cyclic_momentum,
)
from jaxsched.schedules._cyclic import (
    one_cycle as one_cycle,
)
from jaxsched.schedules._cyclic import (
    one_cycle_momentum as one_cycle_momentum,
)
from jaxsched.schedules._decay import (
    constant as constant,
)
from jaxsched.schedules._decay import (
    exponential_decay as exponential_decay,
)
from jaxsched.schedules._decay import (
    inverse_sqrt_decay as inverse_sqrt_decay,
)
from jaxsched.schedules._decay import (
    inverse_time_decay as inverse_time_decay,
)
from jaxsched.schedules._decay import (
    linear as linear,
)
from jaxsched.schedules._decay import (
    multistep_decay as multistep_decay,
)
from jaxsched.schedules._decay import (
    natural_exp_decay as natural_exp_decay,
)
from jaxsched.schedules._decay import (
    piecewise_constant as piecewise_constant,
)
from jaxsched.schedules._decay import (
    piecewise_linear as piecewise_linear,
)
from jaxsched.schedules._decay import (
    polynomial_decay as polynomial_decay,
)
from jaxsched.schedules._decay import (
    step_decay as step_decay,
)
from jaxsched.schedules._functional import lambda_lr as lambda_lr
from jaxsched.schedules._functional import multiplicative as multiplicative
from jaxsched.schedules._reference import (
    constant_schedule_with_warmup as constant_schedule_with_warmup,
)
from jaxsched.schedules._reference import (
    cosine_schedule_with_warmup as cosine_schedule_with_warmup,
)
from jaxsched.schedules._reference import (
    cosine_with_hard_restarts_schedule_with_warmup as cosine_with_hard_restarts_schedule_with_warmup,
)
from jaxsched.schedules._reference import (
    cosine_with_min_lr_schedule_with_warmup as cosine_with_min_lr_schedule_with_warmup,
)
from jaxsched.schedules._reference import (
    cosine_with_min_lr_schedule_with_warmup_lr_rate as cosine_with_min_lr_schedule_with_warmup_lr_rate,
)
from jaxsched.schedules._reference import (
    hf_schedule as hf_schedule,
)
from jaxsched.schedules._reference import (
    inverse_sqrt_schedule as inverse_sqrt_schedule,
)
from jaxsched.schedules._reference import (
    linear_schedule_with_warmup as linear_schedule_with_warmup,
)
from jaxsched.schedules._reference import (
    polynomial_decay_schedule_with_warmup as polynomial_decay_schedule_with_warmup,
)
from jaxsched.schedules._reference import (
    timm_cosine as timm_cosine,
)
from jaxsched.schedules._reference import (
    warmup_stable_decay as warmup_stable_decay,
)
from jaxsched.schedules._swa import swa_lr as swa_lr

__all__ = [
    "constant",
    "constant_schedule_with_warmup",
    "cosine_annealing",
    "cosine_annealing_warm_restarts",
    "cosine_decay",
    "cosine_decay_restarts",
    "cosine_schedule_with_warmup",
    "cosine_with_hard_restarts_schedule_with_warmup",
    "cosine_with_min_lr_schedule_with_warmup",
    "cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "cyclic",
    "cyclic_momentum",
    "exponential_decay",
    "hf_schedule",
    "inverse_sqrt_decay",
    "inverse_sqrt_schedule",
    "inverse_time_decay",
    "join",
    "lambda_lr",
    "linear",
    "linear_cosine_decay",
    "linear_schedule_with_warmup",
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
    "polynomial_decay_schedule_with_warmup",
    "product",
    "step_decay",
    "swa_lr",
    "timm_cosine",
    "warmup",
    "warmup_stable_decay",
]
