"""One thin private module per ``torch.optim`` optimizer; each composes its own math in torch's
update order (``_compose.torch_optimizer``). The math of optimizer ``name`` is ``scale_by_<name>`` in
``_<name>.py``; its state type is re-exported here and at the top level (``js.AdamState``)."""

from jaxsched.optimizers._adadelta import AdadeltaState as AdadeltaState, adadelta as adadelta
from jaxsched.optimizers._adafactor import AdafactorState as AdafactorState, adafactor as adafactor
from jaxsched.optimizers._adagrad import AdagradState as AdagradState, adagrad as adagrad
from jaxsched.optimizers._adam import AdamState as AdamState, adam as adam, adamw as adamw
from jaxsched.optimizers._adamax import AdamaxState as AdamaxState, adamax as adamax
from jaxsched.optimizers._asgd import AsgdState as AsgdState, asgd as asgd, asgd_averaged_params as asgd_averaged_params
from jaxsched.optimizers._lamb import LambState as LambState, lamb as lamb
from jaxsched.optimizers._lars import LarsState as LarsState, lars as lars
from jaxsched.optimizers._lbfgs import LbfgsState as LbfgsState, lbfgs as lbfgs
from jaxsched.optimizers._muon import MuonState as MuonState, muon as muon
from jaxsched.optimizers._lion import LionState as LionState, lion as lion
from jaxsched.optimizers._nadam import NAdamState as NAdamState, nadam as nadam
from jaxsched.optimizers._radam import RAdamState as RAdamState, radam as radam
from jaxsched.optimizers._prodigy import ProdigyState as ProdigyState, prodigy as prodigy
from jaxsched.optimizers._rmsprop import RmspropState as RmspropState, rmsprop as rmsprop
from jaxsched.optimizers._rprop import RpropState as RpropState, rprop as rprop
from jaxsched.optimizers._schedule_free import (
    ScheduleFreeState as ScheduleFreeState,
    schedule_free_adamw as schedule_free_adamw,
    schedule_free_eval_params as schedule_free_eval_params,
    schedule_free_sgd as schedule_free_sgd,
)
from jaxsched.optimizers._sgd import sgd as sgd
from jaxsched.optimizers._sparse_adam import SparseAdamState as SparseAdamState, sparse_adam as sparse_adam
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
    "MuonState",
    "LionState",
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
    "muon",
    "lion",
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
