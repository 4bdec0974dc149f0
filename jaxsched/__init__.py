"""jaxsched: PyTorch-exact optimizers and learning-rate schedules for JAX.

Optimizers are pure ``(init, update)`` transformations (optax-compatible); schedules are pure
functions of the step; ReduceLROnPlateau is an explicit state machine. See README.md.

Layout: ``core`` (protocol, combinators, hyperparameters in the state), ``transforms`` (raw building
blocks), ``optimizers`` (one private module per optimizer family), ``schedules``, and the plateau
state machine, checkpoints, sharding, plots and the schedule spec parser as private modules. Every
public name is re-exported here explicitly.
"""

from jaxsched import core as core, optimizers as optimizers, schedules as schedules, transforms as transforms
from jaxsched._averaging import Averager as Averager, AveragerState as AveragerState, ema as ema, swa as swa
from jaxsched._plateau import (
    Plateau as Plateau,
    PlateauSchedule as PlateauSchedule,
    PlateauState as PlateauState,
    reduce_on_plateau as reduce_on_plateau,
    schedule_with_plateau as schedule_with_plateau,
)
from jaxsched._describe import describe as describe
from jaxsched._plot import plot as plot
from jaxsched._sharding import shard_state as shard_state, zero1_shardings as zero1_shardings
from jaxsched._spec import SpecError as SpecError, parse_schedule as parse_schedule
from jaxsched._training import (
    AccumulateState as AccumulateState,
    ParamGroupsState as ParamGroupsState,
    accumulate as accumulate,
    label_decay as label_decay,
    param_groups as param_groups,
    set_frozen as set_frozen,
)
from jaxsched._checkpoint import (
    CheckpointError as CheckpointError,
    checkpoint_info as checkpoint_info,
    load_state as load_state,
    save_state as save_state,
)
from jaxsched.core import (
    EmptyState as EmptyState,
    Fixed as Fixed,
    FlattenState as FlattenState,
    GradientTransformation as GradientTransformation,
    HyperparamsState as HyperparamsState,
    MaskedState as MaskedState,
    Packed as Packed,
    PartitionState as PartitionState,
    Scheduled as Scheduled,
    apply_updates as apply_updates,
    chain as chain,
    flatten as flatten,
    get_hyperparams as get_hyperparams,
    identity as identity,
    inject_hyperparams as inject_hyperparams,
    label_by_path as label_by_path,
    masked as masked,
    partition as partition,
    set_hyperparams as set_hyperparams,
)
from jaxsched.optimizers import (
    AdadeltaState as AdadeltaState,
    AdafactorState as AdafactorState,
    AdagradState as AdagradState,
    AdamaxState as AdamaxState,
    AdamState as AdamState,
    AsgdState as AsgdState,
    LambState as LambState,
    LarsState as LarsState,
    LbfgsState as LbfgsState,
    MuonState as MuonState,
    LionState as LionState,
    NAdamState as NAdamState,
    ProdigyState as ProdigyState,
    RAdamState as RAdamState,
    RmspropState as RmspropState,
    RpropState as RpropState,
    ScheduleFreeState as ScheduleFreeState,
    SparseAdamState as SparseAdamState,
    TraceState as TraceState,
    adadelta as adadelta,
    adafactor as adafactor,
    adagrad as adagrad,
    adam as adam,
    adamax as adamax,
    adamw as adamw,
    asgd as asgd,
    asgd_averaged_params as asgd_averaged_params,
    lamb as lamb,
    lars as lars,
    lbfgs as lbfgs,
    muon as muon,
    lion as lion,
    nadam as nadam,
    prodigy as prodigy,
    radam as radam,
    rmsprop as rmsprop,
    rprop as rprop,
    schedule_free_adamw as schedule_free_adamw,
    schedule_free_eval_params as schedule_free_eval_params,
    schedule_free_sgd as schedule_free_sgd,
    sgd as sgd,
    sparse_adam as sparse_adam,
)
from jaxsched.transforms import (
    SkipNonFiniteState as SkipNonFiniteState,
    low_precision_state as low_precision_state,
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
    "ParamGroupsState",
    "Plateau",
    "PlateauSchedule",
    "PlateauState",
    "SkipNonFiniteState",
    "SpecError",
    "accumulate",
    "add_weight_decay",
    "checkpoint_info",
    "clip",
    "clip_by_global_norm",
    "ema",
    "describe",
    "label_decay",
    "load_state",
    "low_precision_state",
    "param_groups",
    "parse_schedule",
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
    "transforms",
    "zero1_shardings",
]
