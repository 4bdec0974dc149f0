"""The optimizers under test: one entry each, read by every generic optimizer test.

Modelled on torch's ``optim_db`` (``torch/testing/_internal/common_optimizers.py``). Adding an
optimizer to the tests means adding an :class:`OptimizerInfo` to :data:`OPTIM_DB` (and regenerating
the golden values with ``python tests/golden/generate.py <name>``); tests of behaviour only that
optimizer has go to ``tests/test_optim_<name>.py``.

Fields of an entry:

``name``
    The constructor's name in ``jaxsched`` (also the entry's key in :data:`OPTIMIZERS`).
``make``
    The constructor, e.g. ``js.adam``.
``torch_optimizer``
    The class it must equal (same defaults, same trajectories): a ``torch.optim`` class name, or
    ``"package.Class"`` for an optimizer from a reference package (``"lion_pytorch.Lion"``), whose
    tests skip when the package is absent (golden values are checked still).
``hyperparams``
    An example value for every argument that is a hyperparameter in the state (every non-bool
    argument but ``static``), nonzero so that no term is compiled out.
``changed``
    Argument -> a different value, set with ``set_hyperparams`` by the contract tests.
``invalid``
    ``(kwargs, error type, texts the message must contain)`` for each rejected argument.
``options``
    Boolean arguments switched on by the generic behaviour tests, for the code they compile in.
``static``
    Non-bool arguments fixed at construction (integers, names), which are not hyperparameters.
``has_betas``
    Has a ``betas`` pair (the bfloat16 test sets beta2 = 0.999, which bfloat16 would round to 1).
``supports_complex``
    Accepts complex parameters, with torch's complex math (``tests/test_complex.py`` has its cases);
    the others refuse them at ``init``, naming the leaf.
``elementwise``
    Each update entry depends on its own parameter and gradient entries only, so packing leaves
    (``js.flatten``) is exact.
``sharded_collectives``
    The collective operations of the jitted update on parameters sharded over 8 devices
    (``tests/sharding_script.py``): none for elementwise math, an all-reduce where the update
    needs a norm or sum over a whole (sharded) tensor.
``eval_params``
    ``(state, params) -> params`` to evaluate with (schedule-free's ``optimizer.eval()``), checked
    by the invariant and sharding tests beside the parameters.
``needs_value_fn``
    ``update`` needs ``value_fn``: no generic update loop applies (invariants, flatten, sharding,
    set_hyperparams, strategies); such an optimizer has its own harness.
``sparse_grads``
    Accepts sparse (BCOO) gradients; ``js.flatten`` packs dense leaves only.
``parity``
    Case name -> :class:`~tests.optim_parity.ParityCase` (jaxsched's arguments only; torch's are
    derived from them). Names are the keys of ``tests/golden/optimizers.npz``, unique over the table.

:meth:`OptimizerInfo.build` is the example configuration: ``hyperparams`` with ``options``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax.experimental import sparse

import jaxsched as js
from tests.optim_parity import PARAMS0, ParityCase, torch_scheduler


@dataclasses.dataclass
class OptimizerInfo:
    name: str
    make: Callable[..., Any]
    torch_optimizer: str
    hyperparams: dict[str, Any]
    changed: dict[str, Any]
    invalid: list[tuple[dict[str, Any], type, tuple[str, ...]]]
    options: dict[str, bool] = dataclasses.field(default_factory=dict)
    static: tuple[str, ...] = ()
    has_betas: bool = False
    supports_complex: bool = False
    elementwise: bool = True
    sharded_collectives: tuple[str, ...] = ()
    eval_params: Callable[[Any, Any], Any] | None = None
    needs_value_fn: bool = False
    sparse_grads: bool = False
    parity: dict[str, ParityCase] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.parity = {
            name: dataclasses.replace(case, make=self.make, torch_optimizer=self.torch_optimizer)
            for name, case in self.parity.items()
        }

    def build(self, **overrides):
        """The example configuration (``hyperparams`` and ``options``), with ``overrides``."""
        return self.make(**{**self.hyperparams, **self.options, **overrides})


# --- schedules shared by parity cases --------------------------------------------------------------


def steplr(lr: float) -> Callable[[Any], Any]:
    """The learning rate that :data:`TORCH_STEPLR` (``StepLR(step_size=7, gamma=0.5)``) gives from ``lr``."""
    return lambda step: lr * 0.5 ** (step // 7)


TORCH_STEPLR = torch_scheduler("StepLR", step_size=7, gamma=0.5)


def rising_beta1(step: int):
    """A beta1 schedule for parity cases (0.45, 0.675, ... -> 0.9), written for both jax and Python ints."""
    return 0.9 * (1 - 0.5 ** (step + 1))


def falling_beta2(step: int):
    """A beta2 schedule for parity cases (0.899, 0.919, ... -> 0.999)."""
    return 0.999 - 0.1 * 0.8**step


# --- rejected arguments shared by the Adam family -------------------------------------------------


def adam_family_invalid(flags: tuple[str, ...] = ("maximize",), nonnegative: tuple[str, ...] = ()) -> list:
    """Rejected arguments shared by the Adam family: lr, eps, betas, flags and extra ``>= 0`` arguments."""
    cases = [
        (dict(learning_rate=-1e-3), ValueError, ("learning_rate", "-0.001")),
        (dict(eps=-1e-8), ValueError, ("eps", "-1e-08")),
        (dict(betas=(1.0, 0.999)), ValueError, ("betas[0]", "[0, 1)", "1.0")),
        (dict(betas=(0.9, -0.1)), ValueError, ("betas[1]", "[0, 1)", "-0.1")),
        (dict(betas=(0.9, float("nan"))), ValueError, ("betas[1]",)),
        (dict(betas=(0.9, 1.5)), ValueError, ("betas[1]", "1.5")),
        (dict(betas=0.9), TypeError, ("betas", "pair", "0.9")),
        (dict(betas=(0.9, 0.99, 0.999)), TypeError, ("betas", "pair")),
        (dict(betas=("0.9", 0.999)), TypeError, ("betas[0]", "'0.9'")),
    ]
    cases += [(dict(**{name: -0.5}), ValueError, (name, "-0.5")) for name in nonnegative]
    cases += [(dict(**{flag: 1}), TypeError, (flag, "True or False")) for flag in flags]
    return cases


ADAM_INVALID = adam_family_invalid(flags=("amsgrad", "maximize"), nonnegative=("weight_decay",))
ADAM_HYPERPARAMS = dict(learning_rate=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
ADAM_CHANGED = dict(learning_rate=3e-2, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.3)


# --- SparseAdam's gradients -------------------------------------------------------------------------


def _zero_some(step):
    """About 40% of the gradient entries are zeroed, differently at every step."""
    rng = np.random.RandomState(1000 + step)
    return {k: rng.rand(*np.shape(v)) < 0.6 for k, v in PARAMS0.items()}


def _to_torch_sparse(t):
    return t.to_sparse()  # drops zeros: only nonzero entries are present


def _to_bcoo(g):
    # A fixed nse keeps the shapes (and the jit cache) constant: padding entries get out-of-range
    # indices. A 0-d array has no indices to put out of range, so there padding would be stored.
    return sparse.BCOO.fromdense(jnp.asarray(g), nse=np.size(g) if np.ndim(g) else None)


def _stored(shape):
    """A fixed storage pattern: every flat index except those = 1 (mod 3) is stored, zero or not."""
    return (np.arange(int(np.prod(shape))) % 3 != 1).reshape(shape)


def _to_bcoo_stored(g):
    pattern = _stored(np.shape(g))
    return sparse.BCOO((jnp.asarray(np.asarray(g)[pattern]), jnp.asarray(np.argwhere(pattern))), shape=np.shape(g))


def _to_torch_stored(t):
    import torch

    pattern = _stored(tuple(t.shape))
    indices = torch.from_numpy(np.argwhere(pattern).T.copy())
    return torch.sparse_coo_tensor(indices, t[torch.from_numpy(pattern)], tuple(t.shape), check_invariants=True)


def _sparse_case(kwargs, **options):
    return ParityCase(kwargs, **{"grad_mask": _zero_some, "torch_grads": _to_torch_sparse, **options})


# --- schedules of single parity cases ---------------------------------------------------------------


def _weight_decay(t):
    return 0.1 / (1 + t)


def _adamax_beta2(t):
    return 0.6 + 0.3 * 0.9**t


def _momentum_decay(t):
    return 0.004 + 0.05 * t


def _toggling_beta2(t):
    """0.999 (rectified from t = 6 on) for two steps, then 0.5 (rho_inf = 3: never rectified) for two."""
    return 0.5 + 0.499 * (t % 4 < 2)


def _etaplus(t):
    return 1.1 + 0.05 * (t % 3)


def _max_step_size(t):
    return 0.3 / (1 + t)


def _zero(t):
    """A schedule that is 0 at step 0 (lion's decoupled weight decay divides by it)."""
    return 0.0 * t


def _lr_with_a_pause(t):
    """1, then 0 for steps 10-12 (Prodigy's reference then skips the step entirely), then 0.5."""
    return 1.0 - 1.0 * (t >= 10) + 0.5 * (t >= 13)


_CYCLIC = dict(step_size_up=5, step_size_down=8, mode="triangular2")
_ONE_CYCLE = dict(pct_start=0.25, three_phase=True)


OPTIM_DB = [
    OptimizerInfo(
        "sgd",
        js.sgd,
        "SGD",
        hyperparams=dict(learning_rate=0.05, momentum=0.5, dampening=0.1, weight_decay=0.01),
        changed=dict(learning_rate=0.2, momentum=0.9, dampening=0.5, weight_decay=0.5),
        # nesterov needs dampening = 0, which hyperparams sets nonzero: sgd_nesterov_wd covers it
        invalid=[
            (dict(learning_rate=-0.1), ValueError, ("learning_rate", "-0.1")),
            (dict(learning_rate=float("nan")), ValueError, ("learning_rate", "nan")),
            (dict(momentum=-0.9), ValueError, ("momentum", "-0.9")),
            (dict(dampening=-1.0), ValueError, ("dampening", "-1.0")),
            (dict(weight_decay=-1e-4), ValueError, ("weight_decay", "-0.0001")),
            (dict(nesterov=True), ValueError, ("nesterov",)),
            (dict(momentum=0.9, dampening=0.1, nesterov=True), ValueError, ("nesterov",)),
            (dict(learning_rate="0.1"), TypeError, ("learning_rate", "'0.1'")),
            (dict(maximize="yes"), TypeError, ("maximize", "True or False")),
            (dict(learning_rate=jnp.ones(3)), TypeError, ("learning_rate",)),
        ],
        supports_complex=True,
        parity={
            "sgd_plain": ParityCase(dict(learning_rate=0.1)),
            "sgd_momentum": ParityCase(dict(learning_rate=0.05, momentum=0.9)),
            "sgd_dampening": ParityCase(dict(learning_rate=0.05, momentum=0.8, dampening=0.3)),
            "sgd_nesterov_wd": ParityCase(dict(learning_rate=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
            "sgd_maximize_wd": ParityCase(dict(learning_rate=0.01, momentum=0.5, weight_decay=0.1, maximize=True)),
            "sgd_steplr": ParityCase(dict(learning_rate=steplr(0.1), momentum=0.9), TORCH_STEPLR),
            "sgd_param_groups": ParityCase(
                dict(learning_rate=0.1, momentum=0.9), second_group=dict(learning_rate=0.02)
            ),
            "sgd_groups_lambdalr": ParityCase(
                dict(learning_rate=lambda t: 0.1 * 0.9**t, momentum=0.9),
                torch_scheduler("LambdaLR", [lambda e: 0.9**e, lambda e: 1 / (1 + e)]),
                second_group=dict(learning_rate=lambda t: 0.02 / (1 + t)),
            ),
            # torch's CyclicLR(cycle_momentum=True) moves SGD's momentum against the lr, every step
            "sgd_cyclic_lr_and_momentum": ParityCase(
                dict(
                    learning_rate=js.schedules.cyclic(0.01, 0.1, **_CYCLIC),
                    momentum=js.schedules.cyclic_momentum(0.8, 0.9, **_CYCLIC),
                ),
                torch_scheduler(
                    "CyclicLR",
                    base_lr=0.01,
                    max_lr=0.1,
                    **_CYCLIC,
                    cycle_momentum=True,
                    base_momentum=0.8,
                    max_momentum=0.9,
                ),
            ),
        },
    ),
    OptimizerInfo(
        "asgd",
        js.asgd,
        "ASGD",
        hyperparams=dict(learning_rate=0.02, lambd=1e-2, alpha=0.5, t0=3.0, weight_decay=0.01),
        # t0 changes only the average, not the updates: test_optim_asgd.py checks it
        changed=dict(learning_rate=0.2, lambd=0.5, alpha=0.1, weight_decay=0.5),
        invalid=[
            (dict(learning_rate=-0.1), ValueError, ("learning_rate", "-0.1")),
            (dict(lambd=-1e-4), ValueError, ("lambd", "-0.0001")),
            (dict(alpha=-0.75), ValueError, ("alpha", "-0.75")),
            (dict(t0=-1.0), ValueError, ("t0", "-1.0")),
            (dict(weight_decay=-0.1), ValueError, ("weight_decay", "-0.1")),
            (dict(weight_decay=float("nan")), ValueError, ("weight_decay", "nan")),
            (dict(learning_rate="0.1"), TypeError, ("learning_rate", "'0.1'")),
            (dict(maximize=1), TypeError, ("maximize", "True or False")),
        ],
        supports_complex=True,
        parity={
            "asgd_default": ParityCase(),
            # t0 = 5: averaging starts within the 30 parity steps (torch's default t0 is 1e6)
            "asgd_averaging": ParityCase(dict(learning_rate=0.05, lambd=1e-2, alpha=0.6, t0=5)),
            "asgd_wd_maximize": ParityCase(dict(learning_rate=0.01, lambd=1e-3, weight_decay=0.1, maximize=True)),
            # eta is computed from each step's lr at the end of that step: the lr drop acts one step late
            "asgd_steplr": ParityCase(dict(learning_rate=steplr(0.05), lambd=1e-2, t0=10), TORCH_STEPLR),
        },
    ),
    OptimizerInfo(
        "rprop",
        js.rprop,
        "Rprop",
        hyperparams=dict(learning_rate=0.02, etas=(0.4, 1.3), step_sizes=(1e-5, 10.0)),
        changed=dict(learning_rate=0.2, etas=(0.1, 1.9), step_sizes=(1e-3, 0.01)),
        invalid=[
            (dict(learning_rate=-0.1), ValueError, ("learning_rate", "-0.1")),
            (dict(etas=0.5), TypeError, ("etas", "pair", "0.5")),
            (dict(etas=(0.5, 1.2, 2.0)), TypeError, ("etas", "pair")),
            (dict(etas=(1.2, 0.5)), ValueError, ("etaminus", "(0, 1)", "1.2")),
            (dict(etas=(1.5, 1.2)), ValueError, ("etaminus", "1.5")),
            (dict(etas=(0.0, 1.2)), ValueError, ("etaminus", "(0, 1)", "0.0")),
            (dict(etas=(0.5, 1.0)), ValueError, ("etaplus", "(1, inf)", "1.0")),
            (dict(etas=(0.5, 0.9)), ValueError, ("etaplus", "0.9")),
            (dict(etas=(0.5, "1.2")), TypeError, ("etaplus", "'1.2'")),
            (dict(step_sizes=(1.0, 0.1)), ValueError, ("step_sizes", "minimum <= maximum", "(1.0, 0.1)")),
            (dict(step_sizes=(-1e-6, 50.0)), ValueError, ("step_sizes[0]", "-1e-06")),
            (dict(step_sizes=(1e-6, float("inf"))), ValueError, ("step_sizes[1]", "inf")),
            (dict(step_sizes="small"), TypeError, ("step_sizes", "pair", "'small'")),
            (dict(step_sizes=1e-6), TypeError, ("step_sizes", "pair")),
            (dict(maximize="yes"), TypeError, ("maximize", "True or False")),
        ],
        supports_complex=True,
        parity={
            "rprop_default": ParityCase(),
            "rprop_etas_step_sizes": ParityCase(dict(learning_rate=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
            "rprop_maximize": ParityCase(dict(learning_rate=1e-3, maximize=True)),
            # each member of a pair may be a schedule
            "rprop_scheduled_etas": ParityCase(dict(learning_rate=0.05, etas=(0.4, _etaplus))),
            "rprop_scheduled_step_sizes": ParityCase(dict(learning_rate=0.05, step_sizes=(1e-4, _max_step_size))),
            # torch reads lr only to seed the step sizes: the StepLR decay changes nothing afterwards
            "rprop_steplr": ParityCase(dict(learning_rate=steplr(0.05)), TORCH_STEPLR),
            "rprop_constant_lr": ParityCase(dict(learning_rate=0.05)),
        },
    ),
    OptimizerInfo(
        "adagrad",
        js.adagrad,
        "Adagrad",
        hyperparams=dict(learning_rate=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-8),
        changed=dict(learning_rate=0.5, lr_decay=0.5, weight_decay=0.5, initial_accumulator_value=2.0, eps=0.5),
        invalid=[
            (dict(learning_rate=-0.1), ValueError, ("learning_rate", "-0.1")),
            (dict(lr_decay=-1e-3), ValueError, ("lr_decay", "-0.001")),
            (dict(weight_decay=-0.1), ValueError, ("weight_decay", "-0.1")),
            (dict(initial_accumulator_value=-0.1), ValueError, ("initial_accumulator_value", "-0.1")),
            (dict(eps=-1e-10), ValueError, ("eps", "-1e-10")),
            (dict(eps=float("nan")), ValueError, ("eps", "nan")),
            (dict(eps=float("inf")), ValueError, ("eps", "inf")),
            (dict(lr_decay=None), TypeError, ("lr_decay", "None")),
            (dict(maximize=0), TypeError, ("maximize", "True or False")),
        ],
        supports_complex=True,
        parity={
            "adagrad_default": ParityCase(),
            "adagrad_lr_decay_accumulator": ParityCase(
                dict(learning_rate=0.1, lr_decay=0.05, initial_accumulator_value=0.5, eps=1e-6)
            ),
            "adagrad_wd_maximize": ParityCase(dict(learning_rate=0.01, weight_decay=0.1, maximize=True)),
            "adagrad_steplr": ParityCase(dict(learning_rate=steplr(0.1), lr_decay=0.01), TORCH_STEPLR),
        },
    ),
    OptimizerInfo(
        "adadelta",
        js.adadelta,
        "Adadelta",
        hyperparams=dict(learning_rate=0.5, rho=0.8, eps=1e-5, weight_decay=0.01),
        changed=dict(learning_rate=0.3, rho=0.5, eps=1e-2, weight_decay=0.5),
        invalid=[
            (dict(learning_rate=-1.0), ValueError, ("learning_rate", "-1.0")),
            (dict(rho=-0.1), ValueError, ("rho", "[0, 1]", "-0.1")),
            (dict(rho=1.1), ValueError, ("rho", "[0, 1]", "1.1")),
            (dict(eps=-1e-6), ValueError, ("eps", "-1e-06")),
            (dict(weight_decay=-0.1), ValueError, ("weight_decay", "-0.1")),
            (dict(rho="0.9"), TypeError, ("rho", "'0.9'")),
            (dict(maximize=None), TypeError, ("maximize", "True or False")),
        ],
        supports_complex=True,
        parity={
            "adadelta_default": ParityCase(),
            "adadelta_rho_eps": ParityCase(dict(learning_rate=0.5, rho=0.5, eps=1e-3)),
            "adadelta_wd_maximize": ParityCase(dict(learning_rate=0.1, weight_decay=0.1, maximize=True)),
            "adadelta_steplr": ParityCase(dict(learning_rate=steplr(1.0), rho=0.95), TORCH_STEPLR),
        },
    ),
    OptimizerInfo(
        "rmsprop",
        js.rmsprop,
        "RMSprop",
        hyperparams=dict(learning_rate=0.02, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.5),
        changed=dict(learning_rate=0.1, alpha=0.5, eps=1e-2, weight_decay=0.5, momentum=0.1),
        invalid=[
            (dict(learning_rate=-0.01), ValueError, ("learning_rate", "-0.01")),
            (dict(alpha=-0.5), ValueError, ("alpha", "[0, 1]", "-0.5")),
            (dict(alpha=1.5), ValueError, ("alpha", "[0, 1]", "1.5")),
            (dict(eps=-1e-8), ValueError, ("eps", "-1e-08")),
            (dict(weight_decay=-0.1), ValueError, ("weight_decay", "-0.1")),
            (dict(momentum=-0.9), ValueError, ("momentum", "-0.9")),
            (dict(momentum=[0.9]), TypeError, ("momentum", "[0.9]")),
            (dict(centered="yes"), TypeError, ("centered", "True or False")),
            (dict(maximize=1.0), TypeError, ("maximize", "True or False")),
        ],
        options=dict(centered=True),
        supports_complex=True,
        parity={
            "rmsprop_default": ParityCase(),
            "rmsprop_momentum": ParityCase(dict(learning_rate=1e-3, momentum=0.9)),
            "rmsprop_centered": ParityCase(dict(learning_rate=1e-3, alpha=0.9, eps=1e-6, centered=True)),
            # 1 - alpha >= 0.5 takes torch.lerp's other formula
            "rmsprop_centered_momentum_low_alpha": ParityCase(
                dict(learning_rate=1e-3, alpha=0.3, momentum=0.5, centered=True)
            ),
            "rmsprop_wd_maximize": ParityCase(dict(learning_rate=1e-3, weight_decay=0.1, momentum=0.5, maximize=True)),
            "rmsprop_steplr": ParityCase(dict(learning_rate=steplr(0.01), momentum=0.9, centered=True), TORCH_STEPLR),
        },
    ),
    OptimizerInfo(
        "adam",
        js.adam,
        "Adam",
        hyperparams=ADAM_HYPERPARAMS,
        changed=ADAM_CHANGED,
        invalid=ADAM_INVALID,
        options=dict(amsgrad=True),
        has_betas=True,
        supports_complex=True,
        parity={
            "adam_default": ParityCase(dict(learning_rate=1e-2)),
            # torch's OneCycleLR with Adam cycles betas[0] (its "momentum") against the lr, every step
            "adam_one_cycle_lr_and_beta1": ParityCase(
                dict(
                    learning_rate=js.schedules.one_cycle(0.05, 30, **_ONE_CYCLE),
                    betas=(js.schedules.one_cycle_momentum(30, **_ONE_CYCLE), 0.99),
                ),
                torch_scheduler("OneCycleLR", max_lr=0.05, total_steps=30, **_ONE_CYCLE),
            ),
            "adam_amsgrad": ParityCase(dict(learning_rate=1e-2, betas=(0.9, 0.6), amsgrad=True)),
            "adam_l2_weight_decay": ParityCase(dict(learning_rate=1e-2, weight_decay=0.1)),
            "adam_maximize_amsgrad_wd": ParityCase(
                dict(learning_rate=1e-2, betas=(0.9, 0.8), weight_decay=0.05, amsgrad=True, maximize=True)
            ),
            "adam_betas_eps": ParityCase(dict(learning_rate=2e-2, betas=(0.3, 0.7), eps=1e-3)),
            "adam_steplr": ParityCase(dict(learning_rate=steplr(1e-2)), TORCH_STEPLR),
            "adam_beta_schedules": ParityCase(
                dict(learning_rate=1e-2, betas=(rising_beta1, falling_beta2), amsgrad=True)
            ),
        },
    ),
    OptimizerInfo(
        "adamw",
        js.adamw,
        "AdamW",
        hyperparams=ADAM_HYPERPARAMS,
        changed=ADAM_CHANGED,
        invalid=ADAM_INVALID,
        options=dict(amsgrad=True),
        has_betas=True,
        supports_complex=True,
        parity={
            "adamw_default": ParityCase(dict(learning_rate=1e-2)),
            "adamw_amsgrad_maximize": ParityCase(
                dict(learning_rate=1e-2, betas=(0.8, 0.7), weight_decay=0.2, amsgrad=True, maximize=True)
            ),
            "adamw_betas_eps": ParityCase(dict(learning_rate=2e-2, betas=(0.5, 0.9), eps=1e-4)),
            "adamw_steplr": ParityCase(dict(learning_rate=steplr(1e-2), weight_decay=0.1), TORCH_STEPLR),
            "adamw_beta_schedules": ParityCase(dict(learning_rate=1e-2, betas=(rising_beta1, falling_beta2))),
            "adamw_weight_decay_schedule": ParityCase(dict(learning_rate=1e-2, weight_decay=_weight_decay)),
        },
    ),
    OptimizerInfo(
        "adamax",
        js.adamax,
        "Adamax",
        hyperparams=dict(learning_rate=1e-2, betas=(0.8, 0.5), eps=1e-2, weight_decay=0.1),
        changed=dict(learning_rate=3e-2, betas=(0.5, 0.3), eps=0.1, weight_decay=0.3),
        invalid=adam_family_invalid(nonnegative=("weight_decay",)),
        has_betas=True,
        supports_complex=True,
        parity={
            "adamax_default": ParityCase(),
            "adamax_l2_weight_decay": ParityCase(dict(learning_rate=1e-2, weight_decay=0.1)),
            "adamax_maximize_wd": ParityCase(dict(learning_rate=1e-2, weight_decay=0.05, maximize=True)),
            # beta2 = 0.5 lets u fall back to |g| + eps, and eps = 0.1 is large enough to matter there.
            "adamax_betas_eps": ParityCase(dict(learning_rate=2e-2, betas=(0.3, 0.5), eps=0.1)),
            "adamax_steplr": ParityCase(dict(learning_rate=steplr(1e-2)), TORCH_STEPLR),
            "adamax_beta_schedules": ParityCase(dict(learning_rate=1e-2, betas=(rising_beta1, _adamax_beta2))),
        },
    ),
    OptimizerInfo(
        "nadam",
        js.nadam,
        "NAdam",
        hyperparams=dict(learning_rate=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, momentum_decay=0.01),
        changed=dict(learning_rate=3e-2, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.3, momentum_decay=0.5),
        invalid=adam_family_invalid(
            flags=("decoupled_weight_decay", "maximize"), nonnegative=("weight_decay", "momentum_decay")
        ),
        options=dict(decoupled_weight_decay=True),
        has_betas=True,
        supports_complex=True,
        parity={
            "nadam_default": ParityCase(),
            "nadam_l2_weight_decay": ParityCase(dict(learning_rate=1e-2, weight_decay=0.1)),
            "nadam_decoupled_weight_decay": ParityCase(
                dict(learning_rate=1e-2, weight_decay=0.2, decoupled_weight_decay=True)
            ),
            "nadam_maximize_wd": ParityCase(dict(learning_rate=1e-2, weight_decay=0.05, maximize=True)),
            "nadam_betas_eps_momentum_decay": ParityCase(
                dict(learning_rate=2e-2, betas=(0.6, 0.8), eps=1e-3, momentum_decay=0.2)
            ),
            "nadam_steplr": ParityCase(
                dict(learning_rate=steplr(1e-2), weight_decay=0.1, decoupled_weight_decay=True), TORCH_STEPLR
            ),
            "nadam_beta_schedules": ParityCase(dict(learning_rate=1e-2, betas=(rising_beta1, falling_beta2))),
            "nadam_momentum_decay_schedule": ParityCase(dict(learning_rate=1e-2, momentum_decay=_momentum_decay)),
        },
    ),
    OptimizerInfo(
        "radam",
        js.radam,
        "RAdam",
        hyperparams=dict(learning_rate=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        changed=dict(learning_rate=3e-2, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.3),
        invalid=adam_family_invalid(flags=("decoupled_weight_decay", "maximize"), nonnegative=("weight_decay",)),
        options=dict(decoupled_weight_decay=True),
        has_betas=True,
        supports_complex=True,
        parity={
            "radam_default": ParityCase(dict(learning_rate=1e-2)),
            "radam_l2_weight_decay": ParityCase(dict(learning_rate=1e-2, weight_decay=0.1)),
            "radam_decoupled_weight_decay": ParityCase(
                dict(learning_rate=1e-2, weight_decay=0.2, decoupled_weight_decay=True)
            ),
            "radam_maximize_wd": ParityCase(dict(learning_rate=1e-2, weight_decay=0.05, maximize=True)),
            # beta2 = 0.9: rho_inf = 19, rectified from step 6 on.
            "radam_betas_eps": ParityCase(dict(learning_rate=2e-2, betas=(0.6, 0.9), eps=1e-3)),
            "radam_never_rectified": ParityCase(dict(learning_rate=1e-2, betas=(0.9, 0.5))),
            "radam_steplr": ParityCase(
                dict(learning_rate=steplr(1e-2), weight_decay=0.1, decoupled_weight_decay=True), TORCH_STEPLR
            ),
            "radam_beta_schedules_toggle_rectification": ParityCase(
                dict(learning_rate=1e-2, betas=(rising_beta1, _toggling_beta2))
            ),
        },
    ),
    OptimizerInfo(
        "sparse_adam",
        js.sparse_adam,
        "SparseAdam",
        hyperparams=dict(learning_rate=1e-2, betas=(0.8, 0.99), eps=1e-6),
        changed=dict(learning_rate=3e-2, betas=(0.5, 0.9), eps=1e-3),
        invalid=[
            *adam_family_invalid(),
            (dict(learning_rate=0.0), ValueError, ("learning_rate", "(0, inf)")),
            (dict(eps=0.0), ValueError, ("eps", "(0, inf)")),
        ],
        has_betas=True,
        sparse_grads=True,
        parity={
            "sparse_adam_dense_zeros": _sparse_case(dict(learning_rate=1e-2)),
            "sparse_adam_bcoo": _sparse_case(dict(learning_rate=1e-2), jax_grads=_to_bcoo),
            # Stored entries whose value is 0 (zeroed by the mask) still decay m, v and move p.
            "sparse_adam_bcoo_stored_zeros": _sparse_case(
                dict(learning_rate=1e-2), jax_grads=_to_bcoo_stored, torch_grads=_to_torch_stored
            ),
            "sparse_adam_maximize_betas_eps": _sparse_case(
                dict(learning_rate=2e-2, betas=(0.6, 0.8), eps=1e-3, maximize=True), jax_grads=_to_bcoo
            ),
            "sparse_adam_steplr": _sparse_case(dict(learning_rate=steplr(1e-2)), torch_scheduler=TORCH_STEPLR),
            "sparse_adam_beta_schedules": _sparse_case(dict(learning_rate=1e-2, betas=(rising_beta1, falling_beta2))),
        },
    ),
    OptimizerInfo(
        "adafactor",
        js.adafactor,
        "Adafactor",
        hyperparams=dict(learning_rate=5e-2, beta2_decay=-0.6, eps=(1e-20, 1e-3), d=1.0, weight_decay=0.1),
        changed=dict(learning_rate=0.2, beta2_decay=-0.9, eps=(0.5, 2.0), d=3.0, weight_decay=0.3),
        invalid=[
            (dict(learning_rate=-1e-3), ValueError, ("learning_rate", "-0.001")),
            (dict(beta2_decay=0.1), ValueError, ("beta2_decay", "(-inf, 0]", "0.1")),
            (dict(eps=(-1e-30, 1e-3)), ValueError, ("eps[0]", "-1e-30")),
            (dict(eps=(None, -1e-3)), ValueError, ("eps[1]", "-0.001")),
            (dict(eps=1e-3), TypeError, ("eps", "pair")),
            (dict(d=0.5), ValueError, ("d", "[1, inf)", "0.5")),
            (dict(weight_decay=-0.5), ValueError, ("weight_decay", "-0.5")),
            (dict(maximize=1), TypeError, ("maximize", "True or False")),
        ],
        # factored moments per matrix: each entry depends on its row and column (not packable)
        elementwise=False,
        # row and column means, RMS of params and update, over the sharded axis
        sharded_collectives=("all-reduce",),
        parity={
            "adafactor_default": ParityCase(),
            "adafactor_weight_decay": ParityCase(dict(learning_rate=5e-2, weight_decay=0.1)),
            "adafactor_maximize_weight_decay": ParityCase(dict(learning_rate=2e-2, weight_decay=0.2, maximize=True)),
            "adafactor_steplr": ParityCase(
                dict(learning_rate=steplr(0.3), weight_decay=0.05), torch_scheduler=TORCH_STEPLR
            ),
            "adafactor_tiny_eps": ParityCase(dict(learning_rate=0.1, eps=(1e-30, 1e-3))),
            # eps[0] large enough to bound the variance estimate, eps[1] above every parameter's RMS
            "adafactor_large_eps": ParityCase(dict(learning_rate=0.1, eps=(0.3, 2.0))),
            "adafactor_beta2_decay_and_clipping": ParityCase(dict(learning_rate=0.2, beta2_decay=-0.5, d=1.2)),
        },
    ),
    # --- beyond torch.optim: reference packages -----------------------------------------------------
    OptimizerInfo(
        "lion",
        js.lion,
        "lion_pytorch.Lion",
        hyperparams=dict(learning_rate=1e-2, betas=(0.8, 0.95), weight_decay=0.1),
        changed=dict(learning_rate=3e-2, betas=(0.5, 0.9), weight_decay=0.3),
        invalid=[
            (dict(learning_rate=0.0), ValueError, ("learning_rate", "(0, inf)")),
            (dict(betas=(1.5, 0.99)), ValueError, ("betas[0]", "[0, 1]")),
            (dict(betas=(0.9, -0.1)), ValueError, ("betas[1]", "[0, 1]")),
            (dict(betas=0.9), TypeError, ("betas", "pair")),
            (dict(weight_decay=-1.0), ValueError, ("weight_decay", "[0, inf)")),
            (dict(decoupled_weight_decay=1), TypeError, ("decoupled_weight_decay", "True or False")),
            (dict(learning_rate=_zero, decoupled_weight_decay=True), ValueError, ("learning_rate at step 0",)),
        ],
        # no options: decoupled_weight_decay divides by the learning rate at construction, so setting
        # learning_rate later is not constructing with it (tests/test_optim_lion.py covers that mode)
        has_betas=True,
        parity={
            "lion_default": ParityCase(),
            "lion_weight_decay": ParityCase(dict(learning_rate=3e-2, betas=(0.8, 0.95), weight_decay=0.5)),
            "lion_decoupled_weight_decay_steplr": ParityCase(
                dict(learning_rate=steplr(2e-2), weight_decay=1e-2, decoupled_weight_decay=True), TORCH_STEPLR
            ),
            "lion_beta1_schedule": ParityCase(dict(learning_rate=1e-2, betas=(rising_beta1, 0.99), weight_decay=0.1)),
        },
    ),
    OptimizerInfo(
        "lamb",
        js.lamb,
        "pytorch_optimizer.Lamb",
        hyperparams=dict(
            learning_rate=1e-2, betas=(0.8, 0.99), weight_decay=0.1, eps=1e-6, max_grad_norm=0.5, adanorm_r=0.9
        ),
        # adanorm_r moves the running norm at once but the update only once that norm exceeds the
        # gradient's, which takes more steps than the generic test runs: tests/test_optim_lamb.py
        changed=dict(learning_rate=2e-2, betas=(0.5, 0.9), weight_decay=0.3, eps=1e-2, max_grad_norm=0.1),
        invalid=[
            *adam_family_invalid(
                flags=(
                    "weight_decouple",
                    "fixed_decay",
                    "rectify",
                    "degenerated_to_sgd",
                    "grad_averaging",
                    "adam",
                    "pre_norm",
                    "maximize",
                    "adam_debias",
                    "adanorm",
                ),
                nonnegative=("weight_decay", "max_grad_norm"),
            ),
            (dict(n_sma_threshold=4.5), TypeError, ("n_sma_threshold", "integer")),
            (dict(adanorm_r=1.0), ValueError, ("adanorm_r", "[0, 1)")),
        ],
        # max_grad_norm and adanorm_r are hyperparameters only with these options on
        options=dict(pre_norm=True, adanorm=True),
        static=("n_sma_threshold",),
        has_betas=True,
        # the trust ratio takes each tensor's norm (pre_norm: the global gradient norm)
        elementwise=False,
        # those norms sum over the sharded kernel's rows on every device
        sharded_collectives=("all-reduce",),
        parity={
            "lamb_default": ParityCase(dict(learning_rate=1e-3)),
            "lamb_decoupled_weight_decay_steplr": ParityCase(
                dict(learning_rate=steplr(5e-2), weight_decay=0.1), TORCH_STEPLR
            ),
            "lamb_l2_weight_decay": ParityCase(dict(learning_rate=1e-2, weight_decay=0.1, weight_decouple=False)),
            "lamb_fixed_decay": ParityCase(dict(learning_rate=1e-2, weight_decay=0.01, fixed_decay=True)),
            "lamb_adam_no_grad_averaging": ParityCase(
                dict(learning_rate=1e-2, weight_decay=0.1, adam=True, grad_averaging=False, eps=1e-4)
            ),
            "lamb_adam_debias_maximize": ParityCase(
                dict(learning_rate=1e-3, weight_decay=0.1, adam_debias=True, maximize=True)
            ),
            # The reference computes the pre_norm scale in float32, and this torch's CPU float32 sqrt
            # is not always correctly rounded (sqrt(49.87965774536133) gives 7.0625529, the nearest
            # float32 being 7.0625534): the scale then differs by one float32 ulp (6e-8 relative),
            # 1e-6 in the parameters after 30 steps.
            "lamb_pre_norm": ParityCase(
                dict(learning_rate=1e-2, weight_decay=0.1, pre_norm=True, max_grad_norm=0.5), rtol=1e-5
            ),
            # a global gradient norm below max_grad_norm: the float32 scale is exactly 1
            "lamb_pre_norm_unscaled": ParityCase(
                dict(learning_rate=1e-2, weight_decay=0.1, pre_norm=True, max_grad_norm=100.0)
            ),
            "lamb_pre_norm_off": ParityCase(dict(learning_rate=1e-2, pre_norm=True, max_grad_norm=0.0)),
            "lamb_rectify": ParityCase(dict(learning_rate=3e-2, weight_decay=0.1, rectify=True, betas=(0.8, 0.9))),
            "lamb_rectify_degenerated_l2": ParityCase(
                dict(
                    learning_rate=3e-2,
                    rectify=True,
                    degenerated_to_sgd=True,
                    n_sma_threshold=4,
                    weight_decay=0.1,
                    weight_decouple=False,
                )
            ),
            "lamb_adanorm": ParityCase(
                dict(learning_rate=steplr(2e-2), weight_decay=0.1, adanorm=True, adanorm_r=0.9), TORCH_STEPLR
            ),
            "lamb_beta1_schedule": ParityCase(dict(learning_rate=1e-2, betas=(rising_beta1, 0.99), weight_decay=0.1)),
        },
    ),
    OptimizerInfo(
        "lars",
        js.lars,
        "pytorch_optimizer.LARS",
        hyperparams=dict(learning_rate=0.1, weight_decay=0.1, momentum=0.9, dampening=0.1, trust_coefficient=0.1),
        changed=dict(learning_rate=0.2, weight_decay=0.3, momentum=0.5, dampening=0.4, trust_coefficient=0.2),
        invalid=[
            (dict(learning_rate=-1.0), ValueError, ("learning_rate", "[0, inf)")),
            (dict(weight_decay=-1.0), ValueError, ("weight_decay", "[0, inf)")),
            (dict(momentum=1.0), ValueError, ("momentum", "[0, 1)")),
            (dict(dampening=-0.1), ValueError, ("dampening", "[0, 1)")),
            (dict(trust_coefficient=-1e-3), ValueError, ("trust_coefficient", "[0, inf)")),
            (dict(nesterov="yes"), TypeError, ("nesterov", "True or False")),
            (dict(maximize=None), TypeError, ("maximize", "True or False")),
        ],
        options=dict(nesterov=True),
        # the trust ratio of a matrix takes the norms of the whole parameter and gradient
        elementwise=False,
        # those norms sum over the sharded kernel's rows on every device
        sharded_collectives=("all-reduce",),
        parity={
            "lars_default": ParityCase(),
            "lars_weight_decay_steplr": ParityCase(
                dict(learning_rate=steplr(0.3), weight_decay=0.1, trust_coefficient=0.5), TORCH_STEPLR
            ),
            "lars_nesterov": ParityCase(
                dict(learning_rate=0.1, weight_decay=0.05, momentum=0.8, nesterov=True, trust_coefficient=0.2)
            ),
            "lars_maximize": ParityCase(
                dict(learning_rate=2e-3, weight_decay=0.05, trust_coefficient=0.2, maximize=True)
            ),
            "lars_dampening": ParityCase(
                dict(learning_rate=0.3, weight_decay=0.01, momentum=0.5, dampening=0.3, trust_coefficient=0.1)
            ),
            "lars_no_momentum": ParityCase(
                dict(learning_rate=0.2, weight_decay=0.2, momentum=0.0, trust_coefficient=0.05)
            ),
            # momentum switched off for steps 10-19: the reference leaves its buffer untouched meanwhile
            "lars_momentum_schedule": ParityCase(
                dict(
                    learning_rate=0.2,
                    weight_decay=0.1,
                    momentum=lambda t: 0.9 * ((t < 10) | (t >= 20)),
                    dampening=0.2,
                )
            ),
        },
    ),
    # Schedule-free parity (train and eval parameters) is in tests/test_optim_schedule_free.py: the
    # table's trajectories have no eval parameters.
    OptimizerInfo(
        "schedule_free_sgd",
        js.schedule_free_sgd,
        "schedulefree.SGDScheduleFree",
        hyperparams=dict(
            learning_rate=0.05, momentum=0.8, weight_decay=0.01, warmup_steps=2, r=0.5, weight_lr_power=1.0
        ),
        changed=dict(learning_rate=0.2, momentum=0.5, weight_decay=0.3, warmup_steps=3, r=1.0, weight_lr_power=2.0),
        invalid=[
            (dict(learning_rate=-0.1), ValueError, ("learning_rate", "-0.1")),
            (dict(momentum=1.0), ValueError, ("momentum", "(0, 1)")),
            (dict(momentum=0.0), ValueError, ("momentum", "(0, 1)")),
            (dict(weight_decay=-0.1), ValueError, ("weight_decay", "-0.1")),
            (dict(warmup_steps=2.5), TypeError, ("warmup_steps", "integer")),
            (dict(warmup_steps=-1), ValueError, ("warmup_steps", ">= 0")),
            (dict(r=-1.0), ValueError, ("r", "-1.0")),
            (dict(weight_lr_power=float("nan")), ValueError, ("weight_lr_power", "nan")),
        ],
        eval_params=js.schedule_free_eval_params,
    ),
    OptimizerInfo(
        "schedule_free_adamw",
        js.schedule_free_adamw,
        "schedulefree.AdamWScheduleFree",
        hyperparams=dict(
            learning_rate=1e-2,
            betas=(0.8, 0.99),
            eps=1e-6,
            weight_decay=0.05,
            warmup_steps=2,
            r=0.5,
            weight_lr_power=1.0,
        ),
        changed=dict(
            learning_rate=3e-2, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.3, warmup_steps=3, r=1.0, weight_lr_power=2.0
        ),
        invalid=[
            (dict(betas=(0.0, 0.999)), ValueError, ("betas[0]", "(0, 1)")),
            (dict(betas=(0.9, 1.0)), ValueError, ("betas[1]", "[0, 1)")),
            (dict(betas=0.9), TypeError, ("betas", "pair")),
            (dict(eps=-1e-8), ValueError, ("eps", "-1e-08")),
            (dict(learning_rate="0.1"), TypeError, ("learning_rate", "'0.1'")),
        ],
        has_betas=True,
        eval_params=js.schedule_free_eval_params,
    ),
    OptimizerInfo(
        "prodigy",
        js.prodigy,
        "prodigyopt.Prodigy",
        hyperparams=dict(
            learning_rate=0.5,
            betas=(0.9, 0.99),
            beta3=0.95,
            eps=1e-6,
            weight_decay=0.01,
            d0=1e-4,
            d_coef=2.0,
            growth_rate=1.5,
        ),
        # d0 is only the initial d, which init has already stored
        changed=dict(
            learning_rate=0.2, betas=(0.5, 0.9), beta3=0.5, eps=1e-2, weight_decay=0.3, d_coef=0.5, growth_rate=1.1
        ),
        invalid=[
            (dict(learning_rate=0.0), ValueError, ("learning_rate", "(0, inf)")),
            (dict(betas=(1.0, 0.999)), ValueError, ("betas[0]", "[0, 1)")),
            (dict(betas=(0.9, -0.1)), ValueError, ("betas[1]", "[0, 1)")),
            (dict(beta3=1.0), ValueError, ("beta3", "[0, 1)")),
            (dict(eps=0.0), ValueError, ("eps", "(0, inf)")),
            (dict(weight_decay=-0.1), ValueError, ("weight_decay", "-0.1")),
            (dict(d0=0.0), ValueError, ("d0", "(0, inf)")),
            (dict(d_coef=-1.0), ValueError, ("d_coef", "-1.0")),
            (dict(growth_rate=0.0), ValueError, ("growth_rate", "(0, inf)")),
            (dict(growth_rate=float("nan")), ValueError, ("growth_rate", "nan")),
            (dict(slice_p=0), ValueError, ("slice_p", ">= 1")),
            (dict(slice_p=1.5), TypeError, ("slice_p", "integer")),
            (dict(decouple=1), TypeError, ("decouple", "True or False")),
            (dict(safeguard_warmup="yes"), TypeError, ("safeguard_warmup", "True or False")),
        ],
        # not safeguard_warmup: it holds d at d0 beyond the generic tests' 8 updates, so d_coef and
        # growth_rate would change nothing there (prodigy_coupled_bias_correction_safeguard covers it)
        options=dict(use_bias_correction=True),
        static=("slice_p",),
        has_betas=True,
        # d is one scalar for all leaves, from sums over every entry of every parameter
        elementwise=False,
        # those sums run over the sharded kernel on every device
        sharded_collectives=("all-reduce",),
        parity={
            "prodigy_default": ParityCase(),
            "prodigy_decoupled_weight_decay": ParityCase(dict(weight_decay=0.01)),
            "prodigy_coupled_bias_correction_safeguard": ParityCase(
                dict(weight_decay=0.01, decouple=False, use_bias_correction=True, safeguard_warmup=True, d0=1e-2)
            ),
            "prodigy_growth_rate_d_coef": ParityCase(
                dict(learning_rate=0.5, weight_decay=0.01, growth_rate=1.5, d_coef=2.0, d0=1e-4)
            ),
            "prodigy_no_momentum_beta3": ParityCase(dict(betas=(0.0, 0.99), beta3=0.9, eps=1e-6, weight_decay=0.05)),
            "prodigy_changing_lr": ParityCase(dict(learning_rate=_lr_with_a_pause, weight_decay=0.01, d0=1e-3)),
            "prodigy_slice_p": ParityCase(dict(slice_p=3, weight_decay=0.01, use_bias_correction=True)),
        },
    ),
    OptimizerInfo(
        "lbfgs",
        js.lbfgs,
        "LBFGS",
        hyperparams=dict(learning_rate=0.5, tolerance_grad=1e-6, tolerance_change=1e-8),
        changed={},  # set_hyperparams with a value_fn: tests/test_lbfgs.py
        invalid=[
            (dict(learning_rate=-1.0), ValueError, ("learning_rate", "-1.0")),
            (dict(learning_rate=float("nan")), ValueError, ("learning_rate", "nan")),
            (dict(max_iter=0), ValueError, ("max_iter", "0")),
            (dict(max_iter=2.5), TypeError, ("max_iter", "2.5")),
            (dict(max_eval=0), ValueError, ("max_eval", "0")),
            (dict(max_eval="10"), TypeError, ("max_eval", "'10'")),
            (dict(tolerance_grad=-1e-7), ValueError, ("tolerance_grad", "-1e-07")),
            (dict(tolerance_change=-1.0), ValueError, ("tolerance_change", "-1.0")),
            (dict(history_size=0), ValueError, ("history_size", "0")),
            (dict(history_size=True), TypeError, ("history_size", "True")),
            (dict(line_search_fn="wolfe"), ValueError, ("line_search_fn", "'wolfe'")),
            (dict(line_search_fn="backtracking"), ValueError, ("line_search_fn", "'backtracking'")),
        ],
        static=("max_iter", "max_eval", "history_size", "line_search_fn"),
        elementwise=False,
        needs_value_fn=True,
        # parity: torch's step(closure) with its own problem and counters, in tests/test_lbfgs.py
    ),
]

OPTIMIZERS = {info.name: info for info in OPTIM_DB}
# Optimizers that a plain update loop (no value_fn) can drive.
FIRST_ORDER = [info for info in OPTIM_DB if not info.needs_value_fn]
PARITY_CASES = {name: case for info in OPTIM_DB for name, case in info.parity.items()}
