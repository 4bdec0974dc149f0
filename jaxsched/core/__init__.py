"""The small core: protocol, combinators, hyperparameters held in the state, argument validation."""

from jaxsched.core._base import (
    EmptyState as EmptyState,
    GradientTransformation as GradientTransformation,
    apply_updates as apply_updates,
    identity as identity,
)
from jaxsched.core._combinators import (
    MaskedState as MaskedState,
    PartitionState as PartitionState,
    chain as chain,
    label_by_path as label_by_path,
    masked as masked,
    partition as partition,
)
from jaxsched.core._packing import FlattenState as FlattenState, Packed as Packed, flatten as flatten
from jaxsched.core._hyperparams import (
    Fixed as Fixed,
    HyperparamsState as HyperparamsState,
    Scheduled as Scheduled,
    get_hyperparams as get_hyperparams,
    inject_hyperparams as inject_hyperparams,
    set_hyperparams as set_hyperparams,
)

__all__ = [
    "EmptyState",
    "Fixed",
    "FlattenState",
    "GradientTransformation",
    "HyperparamsState",
    "MaskedState",
    "Packed",
    "PartitionState",
    "Scheduled",
    "apply_updates",
    "chain",
    "flatten",
    "get_hyperparams",
    "identity",
    "inject_hyperparams",
    "label_by_path",
    "masked",
    "partition",
    "set_hyperparams",
]
