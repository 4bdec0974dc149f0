"""Raw building blocks the optimizers are composed of (hyperparameters are plain numbers or arrays).

Wrap them with :func:`jaxsched.inject_hyperparams` to keep hyperparameters in the state and accept
schedules; the top-level ``js.clip_by_global_norm`` etc. are exactly that.
"""

from jaxsched.transforms.clipping import clip, clip_by_global_norm, global_norm
from jaxsched.transforms.momentum import TraceState, trace
from jaxsched.transforms.precision import low_precision_state
from jaxsched.transforms.non_finite import SkipNonFiniteState, all_finite, skip_non_finite
from jaxsched.transforms.scaling import add_weight_decay, negate, scale_by_learning_rate

__all__ = [
    "TraceState",
    "SkipNonFiniteState",
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
