"""jaxsched: PyTorch-exact optimizers and learning-rate schedules for JAX.

Optimizers are pure ``(init, update)`` transformations (optax-compatible); schedules are pure
functions of the step; ReduceLROnPlateau is an explicit state machine. See README.md.

Layout: ``core`` (protocol, combinators, hyperparameters in the state), ``transforms`` (raw building
blocks), ``optimizers`` (one private module per optimizer family), ``schedules``, and the plateau
state machine, checkpoints, sharding, plots and the schedule spec parser as private modules. Every
public name is re-exported here explicitly.
"""

from jaxsched import core as core
from jaxsched import optimizers as optimizers
from jaxsched import schedules as schedules
from jaxsched import transforms as transforms
from jaxsched._averaging import Averager as Averager
from jaxsched._averaging import AveragerState as AveragerState
from jaxsched._averaging import ema as ema
from jaxsched._averaging import swa as swa
from jaxsched._checkpoint import (
    CheckpointError as CheckpointError,
)
from jaxsched._checkpoint import (
    checkpoint_info as checkpoint_info,
)
from jaxsched._checkpoint import (
    load_state as load_state,
)
from jaxsched._checkpoint import (
    save_state as save_state,
)
from jaxsched._describe import describe as describe
from jaxsched._fused import FusedState as FusedState
from jaxsched._fused import FusedTransformation as FusedTransformation
from jaxsched._fused import fused as fused
from jaxsched._plateau import (
    Plateau as Plateau,
)
from jaxsched._plateau import (
    PlateauSchedule as PlateauSchedule,
)
from jaxsched._plateau import (
    PlateauState as PlateauState,
)
from jaxsched._plateau import (
    reduce_on_plateau as reduce_on_plateau,
)
from jaxsched._plateau import (
    schedule_with_plateau as schedule_with_plateau,
)
from jaxsched._plot import plot as plot
from jaxsched._sharding import shard_state as shard_state
from jaxsched._sharding import zero1_shardings as zero1_shardings
from jaxsched._spec import SpecError as SpecError
from jaxsched._spec import parse_schedule as parse_schedule
from jaxsched._torch_state import TorchStateDictError as TorchStateDictError
from jaxsched._torch_state import from_torch_state_dict as from_torch_state_dict
from jaxsched._torch_state import plateau_from_torch_state_dict as plateau_from_torch_state_dict
from jaxsched._torch_state import plateau_to_torch_state_dict as plateau_to_torch_state_dict
from jaxsched._torch_state import to_torch_scheduler_state_dict as to_torch_scheduler_state_dict
from jaxsched._torch_state import to_torch_state_dict as to_torch_state_dict
from jaxsched._training import (
    AccumulateState as AccumulateState,
)
from jaxsched._training import (
    ParamGroupsState as ParamGroupsState,
)
from jaxsched._training import (
    accumulate as accumulate,
)
from jaxsched._training import (
    label_decay as label_decay,
)
from jaxsched._training import (
    param_groups as param_groups,
)
from jaxsched._training import (
    set_frozen as set_frozen,
)
from jaxsched.core import (
    EmptyState as EmptyState,
)
from jaxsched.core import (
    Fixed as Fixed,
)
from jaxsched.core import (
    FlattenState as FlattenState,
)
from jaxsched.core import (
    GradientTransformation as GradientTransformation,
)
from jaxsched.core import (
    HyperparamsState as HyperparamsState,
)
from jaxsched.core import (
    MaskedState as MaskedState,
)
from jaxsched.core import (
    Packed as Packed,
)
from jaxsched.core import (
    PartitionState as PartitionState,
)
from jaxsched.core import (
    Scheduled as Scheduled,
)
from jaxsched.core import (
    apply_updates as apply_updates,
)
from jaxsched.core import (
    chain as chain,
)
from jaxsched.core import (
    flatten as flatten,
)
from jaxsched.core import (
    get_hyperparams as get_hyperparams,
)
from jaxsched.core import (
    identity as identity,
)
from jaxsched.core import (
    inject_hyperparams as inject_hyperparams,
)
from jaxsched.core import (
    label_by_path as label_by_path,
)
from jaxsched.core import (
    masked as masked,
)
from jaxsched.core import (
    partition as partition,
)
from jaxsched.core import (
    set_hyperparams as set_hyperparams,
)
from jaxsched.optimizers import (
    AdadeltaState as AdadeltaState,
)
from jaxsched.optimizers import (
    AdafactorState as AdafactorState,
)
from jaxsched.optimizers import (
    AdagradState as AdagradState,
)
from jaxsched.optimizers import (
    AdamaxState as AdamaxState,
)
from jaxsched.optimizers import (
    AdamState as AdamState,
)
from jaxsched.optimizers import (
    AsgdState as AsgdState,
)
from jaxsched.optimizers import (
    LambState as LambState,
)
from jaxsched.optimizers import (
    LarsState as LarsState,
)
from jaxsched.optimizers import (
    LbfgsState as LbfgsState,
)
from jaxsched.optimizers import (
    LionState as LionState,
)
from jaxsched.optimizers import (
    MuonState as MuonState,
)
from jaxsched.optimizers import (
    NAdamState as NAdamState,
)
from jaxsched.optimizers import (
    ProdigyState as ProdigyState,
)
from jaxsched.optimizers import (
    RAdamState as RAdamState,
)
from jaxsched.optimizers import (
    RmspropState as RmspropState,
)
from jaxsched.optimizers import (
    RpropState as RpropState,
)
from jaxsched.optimizers import (
    ScheduleFreeState as ScheduleFreeState,
)
from jaxsched.optimizers import (
    SparseAdamState as SparseAdamState,
)
from jaxsched.optimizers import (
    TraceState as TraceState,
)
from jaxsched.optimizers import (
    adadelta as adadelta,
)
from jaxsched.optimizers import (
    adafactor as adafactor,
)
from jaxsched.optimizers import (
    adagrad as adagrad,
)
from jaxsched.optimizers import (
    adam as adam,
)
from jaxsched.optimizers import (
    adamax as adamax,
)
from jaxsched.optimizers import (
    adamw as adamw,
)
from jaxsched.optimizers import (
    asgd as asgd,
)
from jaxsched.optimizers import (
    asgd_averaged_params as asgd_averaged_params,
)
from jaxsched.optimizers import (
    lamb as lamb,
)
from jaxsched.optimizers import (
    lars as lars,
)
from jaxsched.optimizers import (
    lbfgs as lbfgs,
)
from jaxsched.optimizers import (
    lion as lion,
)
from jaxsched.optimizers import (
    muon as muon,
)
from jaxsched.optimizers import (
    nadam as nadam,
)
from jaxsched.optimizers import (
    prodigy as prodigy,
)
from jaxsched.optimizers import (
    radam as radam,
)
from jaxsched.optimizers import (
    rmsprop as rmsprop,
)
from jaxsched.optimizers import (
    rprop as rprop,
)
from jaxsched.optimizers import (
    schedule_free_adamw as schedule_free_adamw,
)
from jaxsched.optimizers import (
    schedule_free_eval_params as schedule_free_eval_params,
)
from jaxsched.optimizers import (
    schedule_free_sgd as schedule_free_sgd,
)
from jaxsched.optimizers import (
    sgd as sgd,
)
from jaxsched.optimizers import (
    sparse_adam as sparse_adam,
)
from jaxsched.transforms import (
    SkipNonFiniteState as SkipNonFiniteState,
)
from jaxsched.transforms import (
    low_precision_state as low_precision_state,
)
from jaxsched.transforms import (
    skip_non_finite as skip_non_finite,
)

__version__ = "0.1.0"

# The building blocks with their hyperparameters kept in the state (readable with get_hyperparams,
# settable with set_hyperparams, schedules accepted).
clip = inject_hyperparams(transforms.clip)
clip_by_global_norm = inject_hyperparams(transforms.clip_by_global_norm)
scale_by_learning_rate = inject_hyperparams(transforms.scale_by_learning_rate)
add_weight_decay = inject_hyperparams(transforms.add_weight_decay)

__all__ = [
    *core.__all__,
    *optimizers.__all__,
    "Averager",
    "AveragerState",
    "AccumulateState",
    "CheckpointError",
    "FusedState",
    "FusedTransformation",
    "ParamGroupsState",
    "Plateau",
    "PlateauSchedule",
    "PlateauState",
    "SkipNonFiniteState",
    "SpecError",
    "TorchStateDictError",
    "accumulate",
    "add_weight_decay",
    "checkpoint_info",
    "clip",
    "clip_by_global_norm",
    "ema",
    "describe",
    "from_torch_state_dict",
    "fused",
    "label_decay",
    "load_state",
    "low_precision_state",
    "param_groups",
    "parse_schedule",
    "plateau_from_torch_state_dict",
    "plateau_to_torch_state_dict",
    "plot",
    "reduce_on_plateau",
    "save_state",
    "scale_by_learning_rate",
    "schedule_with_plateau",
    "schedules",
    "set_frozen",
    "shard_state",
    "skip_non_finite",
    "swa",
    "to_torch_scheduler_state_dict",
    "to_torch_state_dict",
    "transforms",
    "zero1_shardings",
]
