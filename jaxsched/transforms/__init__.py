"""Raw building blocks the optimizers are composed of (hyperparameters are plain numbers or arrays).

Wrap them with :func:`jaxsched.inject_hyperparams` to keep hyperparameters in the state and accept
schedules; the top-level ``js.clip_by_global_norm`` etc. are exactly that.
"""

from jaxsched.transforms._clipping import (
    clip as clip,
)
from jaxsched.transforms._clipping import (
    clip_by_global_norm as clip_by_global_norm,
)
from jaxsched.transforms._clipping import (
    global_norm as global_norm,
)
from jaxsched.transforms._momentum import TraceState as TraceState
from jaxsched.transforms._momentum import trace as trace
from jaxsched.transforms._non_finite import (
    SkipNonFiniteState as SkipNonFiniteState,
)
from jaxsched.transforms._non_finite import (
    all_finite as all_finite,
)
from jaxsched.transforms._non_finite import (
    skip_non_finite as skip_non_finite,
)
from jaxsched.transforms._precision import low_precision_state as low_precision_state
from jaxsched.transforms._scaling import (
    add_weight_decay as add_weight_decay,
)
from jaxsched.transforms._scaling import (
    negate as negate,
)
from jaxsched.transforms._scaling import (
    scale_by_learning_rate as scale_by_learning_rate,
)

__all__ = [
    "SkipNonFiniteState",
    "TraceState",
    "add_weight_decay",
    "all_finite",
    "clip",
    "clip_by_global_norm",
    "global_norm",
    "low_precision_state",
    "negate",
    "scale_by_learning_rate",
    "skip_non_finite",
    "trace",
]
