"""The small core: protocol, combinators, hyperparameters held in the state, argument validation."""

from jaxsched.core._base import (
    EmptyState as EmptyState,
)
from jaxsched.core._base import (
    GradientTransformation as GradientTransformation,
)
from jaxsched.core._base import (
    apply_updates as apply_updates,
)
from jaxsched.core._base import (
    identity as identity,
)
from jaxsched.core._combinators import (
    MaskedState as MaskedState,
)
from jaxsched.core._combinators import (
    PartitionState as PartitionState,
)
from jaxsched.core._combinators import (
    chain as chain,
)
from jaxsched.core._combinators import (
    label_by_path as label_by_path,
)
from jaxsched.core._combinators import (
    masked as masked,
)
from jaxsched.core._combinators import (
    partition as partition,
)
from jaxsched.core._hyperparams import (
    Fixed as Fixed,
)
from jaxsched.core._hyperparams import (
    HyperparamsState as HyperparamsState,
)
from jaxsched.core._hyperparams import (
    Scheduled as Scheduled,
)
from jaxsched.core._hyperparams import (
    get_hyperparams as get_hyperparams,
)
from jaxsched.core._hyperparams import (
    inject_hyperparams as inject_hyperparams,
)
from jaxsched.core._hyperparams import (
    set_hyperparams as set_hyperparams,
)
from jaxsched.core._packing import FlattenState as FlattenState
from jaxsched.core._packing import Packed as Packed
from jaxsched.core._packing import flatten as flatten

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
