"""The small core: protocol, combinators, hyperparameters held in the state, argument validation."""

from jaxsched.core.base import EmptyState, GradientTransformation, apply_updates, identity
from jaxsched.core.combinators import MaskedState, PartitionState, chain, label_by_path, masked, partition
from jaxsched.core.packing import FlattenState, Packed, flatten
from jaxsched.core.hyperparams import (
    Fixed,
    HyperparamsState,
    Scheduled,
    get_hyperparams,
    inject_hyperparams,
    set_hyperparams,
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
