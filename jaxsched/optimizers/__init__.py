"""One thin private module per ``torch.optim`` optimizer; each composes its own math in torch's
update order (``_compose.torch_optimizer``). The math of optimizer ``name`` is ``scale_by_<name>`` in
``_<name>.py``; its state type is re-exported here and at the top level (``js.AdamState``)."""

from jaxsched.optimizers._adadelta import AdadeltaState as AdadeltaState
from jaxsched.optimizers._adadelta import adadelta as adadelta
from jaxsched.optimizers._adafactor import AdafactorState as AdafactorState
from jaxsched.optimizers._adafactor import adafactor as adafactor
from jaxsched.optimizers._adagrad import AdagradState as AdagradState
from jaxsched.optimizers._adagrad import adagrad as adagrad
from jaxsched.optimizers._adam import AdamState as AdamState
from jaxsched.optimizers._adam import adam as adam
from jaxsched.optimizers._adam import adamw as adamw
from jaxsched.optimizers._adamax import AdamaxState as AdamaxState
from jaxsched.optimizers._adamax import adamax as adamax
from jaxsched.optimizers._asgd import AsgdState as AsgdState
from jaxsched.optimizers._asgd import asgd as asgd
from jaxsched.optimizers._asgd import asgd_averaged_params as asgd_averaged_params
from jaxsched.optimizers._lamb import LambState as LambState
from jaxsched.optimizers._lamb import lamb as lamb
from jaxsched.optimizers._lars import LarsState as LarsState
from jaxsched.optimizers._lars import lars as lars
from jaxsched.optimizers._lbfgs import LbfgsState as LbfgsState
from jaxsched.optimizers._lbfgs import lbfgs as lbfgs
from jaxsched.optimizers._lion import LionState as LionState
from jaxsched.optimizers._lion import lion as lion
from jaxsched.optimizers._muon import MuonState as MuonState
from jaxsched.optimizers._muon import muon as muon
from jaxsched.optimizers._nadam import NAdamState as NAdamState
from jaxsched.optimizers._nadam import nadam as nadam
from jaxsched.optimizers._prodigy import ProdigyState as ProdigyState
from jaxsched.optimizers._prodigy import prodigy as prodigy
from jaxsched.optimizers._radam import RAdamState as RAdamState
from jaxsched.optimizers._radam import radam as radam
from jaxsched.optimizers._rmsprop import RmspropState as RmspropState
from jaxsched.optimizers._rmsprop import rmsprop as rmsprop
from jaxsched.optimizers._rprop import RpropState as RpropState
from jaxsched.optimizers._rprop import rprop as rprop
from jaxsched.optimizers._schedule_free import (
    ScheduleFreeState as ScheduleFreeState,
)
from jaxsched.optimizers._schedule_free import (
    schedule_free_adamw as schedule_free_adamw,
)
from jaxsched.optimizers._schedule_free import (
    schedule_free_eval_params as schedule_free_eval_params,
)
from jaxsched.optimizers._schedule_free import (
    schedule_free_sgd as schedule_free_sgd,
)
from jaxsched.optimizers._sgd import sgd as sgd
from jaxsched.optimizers._sparse_adam import SparseAdamState as SparseAdamState
from jaxsched.optimizers._sparse_adam import sparse_adam as sparse_adam
from jaxsched.transforms._momentum import TraceState as TraceState

__all__ = [
    "AdadeltaState",
    "AdafactorState",
    "AdagradState",
    "AdamState",
    "AdamaxState",
    "AsgdState",
    "LambState",
    "LarsState",
    "LbfgsState",
    "LionState",
    "MuonState",
    "NAdamState",
    "ProdigyState",
    "RAdamState",
    "RmspropState",
    "RpropState",
    "ScheduleFreeState",
    "SparseAdamState",
    "TraceState",
    "adadelta",
    "adafactor",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "asgd",
    "asgd_averaged_params",
    "lamb",
    "lars",
    "lbfgs",
    "lion",
    "muon",
    "nadam",
    "prodigy",
    "radam",
    "rmsprop",
    "rprop",
    "schedule_free_adamw",
    "schedule_free_eval_params",
    "schedule_free_sgd",
    "sgd",
    "sparse_adam",
]
