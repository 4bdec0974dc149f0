"""jaxsched: PyTorch-exact optimizers and learning-rate schedules for JAX.

Optimizers are pure ``(init, update)`` transformations (optax-compatible); schedules are pure
functions of the step; ReduceLROnPlateau is an explicit state machine. See README.md.
"""

from jaxsched import schedules, transforms
from jaxsched.checkpoint import CheckpointError, checkpoint_info, load_state, save_state
from jaxsched.core import *  # noqa: F401,F403
from jaxsched.core import __all__ as _core_all
from jaxsched.core.hyperparams import inject_hyperparams
from jaxsched.optimizers import *  # noqa: F401,F403
from jaxsched.optimizers import __all__ as _optimizers_all
from jaxsched.plateau import Plateau, PlateauSchedule, PlateauState, reduce_on_plateau, schedule_with_plateau
from jaxsched.plot import plot
from jaxsched.sharding import shard_state, zero1_shardings
from jaxsched.spec import SpecError, parse_schedule
from jaxsched.transforms import low_precision_state, skip_non_finite

__version__ = "0.1.0"

# The building blocks with their hyperparameters kept in the state (readable with get_hyperparams,
# settable with set_hyperparams, schedules accepted).
clip = inject_hyperparams(transforms.clip)
clip_by_global_norm = inject_hyperparams(transforms.clip_by_global_norm)
scale_by_learning_rate = inject_hyperparams(transforms.scale_by_learning_rate)
add_weight_decay = inject_hyperparams(transforms.add_weight_decay)

__all__ = [
    *_core_all,
    *_optimizers_all,
    "CheckpointError",
    "SpecError",
    "add_weight_decay",
    "checkpoint_info",
    "load_state",
    "low_precision_state",
    "parse_schedule",
    "plot",
    "save_state",
    "shard_state",
    "zero1_shardings",
    "clip",
    "clip_by_global_norm",
    "Plateau",
    "PlateauSchedule",
    "PlateauState",
    "reduce_on_plateau",
    "scale_by_learning_rate",
    "schedule_with_plateau",
    "schedules",
    "skip_non_finite",
    "transforms",
]
