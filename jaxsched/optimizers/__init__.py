"""One thin module per ``torch.optim`` optimizer; each composes its own math in torch's update order."""

from jaxsched.optimizers.adadelta import adadelta
from jaxsched.optimizers.adagrad import adagrad
from jaxsched.optimizers.adam import adam, adamw
from jaxsched.optimizers.adamax import adamax
from jaxsched.optimizers.asgd import asgd, asgd_averaged_params
from jaxsched.optimizers.lbfgs import lbfgs
from jaxsched.optimizers.nadam import nadam
from jaxsched.optimizers.radam import radam
from jaxsched.optimizers.rmsprop import rmsprop
from jaxsched.optimizers.rprop import rprop
from jaxsched.optimizers.sgd import sgd
from jaxsched.optimizers.sparse_adam import sparse_adam

__all__ = [
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "asgd",
    "asgd_averaged_params",
    "lbfgs",
    "nadam",
    "radam",
    "rmsprop",
    "rprop",
    "sgd",
    "sparse_adam",
]
