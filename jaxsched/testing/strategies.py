"""Hypothesis strategies for property tests of schedules, optimizers and the plateau.

Needs ``hypothesis`` (``pip install 'jaxsched[test]'``). Every generated object has a readable
``description``: for schedules it is a spec string that ``js.parse_schedule`` turns back into the
same schedule, for optimizers the constructor call, so a failing example is easy to reproduce.

Example::

    from hypothesis import given
    from jaxsched.testing import strategies as jst, assert_schedule_bounded

    @given(jst.schedules())
    def test_bounded(case):
        assert_schedule_bounded(case.schedule, case.lower, case.upper, steps=500)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

import jaxsched as js


@dataclasses.dataclass(frozen=True)
class ScheduleCase:
    """A generated schedule with the properties it is known to have.

    ``lower``/``upper`` bound every value; ``monotone`` is ``"decreasing"``, ``"increasing"`` or
    ``None``; ``period`` is set when ``schedule(s + period) == schedule(s)``; ``continuous_at``
    lists boundaries (joins, warmup ends) where the schedule has no jump.
    """

    description: str
    schedule: Callable[[Any], Any] = dataclasses.field(compare=False)
    lower: float
    upper: float
    monotone: str | None = None
    period: int | None = None
    continuous_at: tuple[int, ...] = ()

    def __repr__(self) -> str:
        return self.description


def _call(name: str, *args: Any, **kwargs: Any) -> str:
    parts = [a if isinstance(a, str) and "(" in a else repr(a) for a in args]
    parts += [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _case(name: str, args: tuple, kwargs: dict, **props: Any) -> ScheduleCase:
    schedule = getattr(js.schedules, name)(*args, **kwargs)
    return ScheduleCase(_call(name, *args, **kwargs), schedule, **props)


_values = st.floats(1e-4, 1.0).map(lambda x: float(f"{x:.4g}"))
_fractions = st.floats(0.0, 0.9).map(lambda x: round(x, 3))
_sizes = st.integers(1, 200)


@st.composite
def _decays(draw) -> ScheduleCase:
    init = draw(_values)
    gamma = draw(st.floats(0.1, 1.0).map(lambda x: round(x, 3)))
    kind = draw(
        st.sampled_from(
            [
                "step",
                "multistep",
                "exponential",
                "inverse_time",
                "natural_exp",
                "inverse_sqrt",
                "polynomial",
                "cosine_decay",
            ]
        )
    )
    decreasing = dict(lower=0.0, upper=init, monotone="decreasing")
    if kind == "step":
        return _case("step_decay", (init, draw(_sizes)), {"gamma": gamma}, **decreasing)
    if kind == "multistep":
        milestones = sorted(draw(st.lists(st.integers(1, 400), min_size=1, max_size=5)))
        return _case("multistep_decay", (init, milestones), {"gamma": gamma}, **decreasing)
    if kind == "exponential":
        kwargs = {"decay_steps": draw(_sizes), "staircase": draw(st.booleans())}
        return _case("exponential_decay", (init, gamma), kwargs, **decreasing)
    if kind in ("inverse_time", "natural_exp"):
        args = (init, draw(st.floats(0.0, 2.0).map(lambda x: round(x, 3))), draw(_sizes))
        return _case(f"{kind}_decay", args, {"staircase": draw(st.booleans())}, **decreasing)
    if kind == "inverse_sqrt":
        return _case("inverse_sqrt_decay", (init,), {}, **decreasing)
    if kind == "polynomial":
        end = round(init * draw(_fractions), 6)
        cycle = draw(st.booleans())
        kwargs = {"end_value": end, "power": draw(st.floats(0.5, 3.0).map(lambda x: round(x, 2))), "cycle": cycle}
        return _case(
            "polynomial_decay",
            (init, draw(_sizes)),
            kwargs,
            lower=end,
            upper=init,
            monotone=None if cycle else "decreasing",
        )
    alpha = draw(_fractions)
    return _case(
        "cosine_decay", (init, draw(_sizes)), {"alpha": alpha}, lower=alpha * init, upper=init, monotone="decreasing"
    )


@st.composite
def _periodic(draw, exact_period: bool = False) -> ScheduleCase:
    init = draw(_values)
    eta_min = round(init * draw(_fractions), 6)
    kinds = ["annealing", "warm_restarts"] + ([] if exact_period else ["tf_restarts", "linear_cosine"])
    kind = draw(st.sampled_from(kinds))
    if kind == "annealing":
        t_max = draw(_sizes)
        return _case(
            "cosine_annealing", (init, t_max), {"eta_min": eta_min}, lower=eta_min, upper=init, period=2 * t_max
        )
    if kind == "warm_restarts":
        t_0, t_mult = draw(_sizes), draw(st.integers(1, 1 if exact_period else 3))
        return _case(
            "cosine_annealing_warm_restarts",
            (init, t_0),
            {"t_mult": t_mult, "eta_min": eta_min},
            lower=eta_min,
            upper=init,
            period=t_0 if t_mult == 1 else None,
        )
    if kind == "tf_restarts":
        alpha = draw(_fractions)
        kwargs = {
            "t_mul": draw(st.sampled_from([1.0, 1.5, 2.0])),
            "m_mul": draw(st.sampled_from([0.5, 0.9, 1.0])),
            "alpha": alpha,
        }
        return _case("cosine_decay_restarts", (init, draw(_sizes)), kwargs, lower=alpha * init, upper=init)
    alpha, beta = draw(_fractions), draw(st.floats(0.0, 0.01).map(lambda x: round(x, 4)))
    kwargs = {"num_periods": draw(st.sampled_from([0.5, 1.0, 2.5])), "alpha": alpha, "beta": beta}
    return _case(
        "linear_cosine_decay", (init, draw(_sizes)), kwargs, lower=beta * init, upper=(1 + alpha + beta) * init
    )


@st.composite
def _cyclic(draw, exact_period: bool = False) -> ScheduleCase:
    base = draw(_values)
    peak = round(base * (1 + 10 * draw(_fractions)) + 1e-3, 6)
    kinds = ["cyclic", "cyclic_momentum"] + ([] if exact_period else ["one_cycle", "one_cycle_momentum"])
    kind = draw(st.sampled_from(kinds))
    up, down = draw(_sizes), draw(st.one_of(st.none(), _sizes))
    mode = draw(st.sampled_from(["triangular"] if exact_period else ["triangular", "triangular2", "exp_range"]))
    if kind in ("cyclic", "cyclic_momentum"):
        kwargs = {"step_size_up": up, "step_size_down": down, "mode": mode, "gamma": 0.99}
        period = up + (up if down is None else down) if mode == "triangular" else None
        names = ("base_momentum", "max_momentum") if kind == "cyclic_momentum" else ("base_lr", "max_lr")
        schedule = getattr(js.schedules, kind)(base, peak, **kwargs)
        description = _call(kind, **{names[0]: base, names[1]: peak}, **kwargs)
        return ScheduleCase(description, schedule, lower=base, upper=peak, period=period)
    total = draw(st.integers(10, 500))
    kwargs = {
        "pct_start": draw(st.floats(0.1, 0.45).map(lambda x: round(x, 2))),
        "anneal_strategy": draw(st.sampled_from(["cos", "linear"])),
        "three_phase": draw(st.booleans()),
    }
    if kind == "one_cycle":
        div, final_div = draw(st.sampled_from([5.0, 25.0])), draw(st.sampled_from([10.0, 1e4]))
        kwargs.update(div_factor=div, final_div_factor=final_div)
        return _case("one_cycle", (peak, total), kwargs, lower=peak / div / final_div * (1 - 1e-6), upper=peak)
    kwargs.update(base_momentum=base, max_momentum=peak)
    return _case("one_cycle_momentum", (total,), kwargs, lower=base, upper=peak)


@st.composite
def _piecewise(draw) -> ScheduleCase:
    boundaries = sorted(set(draw(st.lists(st.integers(1, 400), min_size=1, max_size=4))))
    values = [draw(_values) for _ in range(len(boundaries) + 1)]
    kind = draw(st.sampled_from(["piecewise_constant", "piecewise_linear", "linear", "constant"]))
    if kind == "linear":
        return _case(
            "linear",
            (values[0], values[1], draw(_sizes)),
            {},
            lower=min(values[:2]),
            upper=max(values[:2]),
            monotone="decreasing" if values[1] <= values[0] else "increasing",
        )
    if kind == "constant":
        return _case("constant", (values[0],), {}, lower=values[0], upper=values[0], monotone="decreasing")
    values = values if kind == "piecewise_constant" else values[: len(boundaries)]
    return _case(kind, (boundaries, values), {}, lower=min(values), upper=max(values))


def basic_schedules() -> st.SearchStrategy[ScheduleCase]:
    """Every non-combinator schedule of ``js.schedules`` with random valid parameters."""
    return st.one_of(_decays(), _periodic(), _cyclic(), _piecewise())


COMBINATORS = ("warmup", "join", "product", "per_epoch")


@st.composite
def combined_schedules(
    draw, kinds: Sequence[str] = COMBINATORS, inner: st.SearchStrategy[ScheduleCase] | None = None
) -> ScheduleCase:
    """A basic schedule (or ``inner``) wrapped in one of ``kinds`` (warmup, join, product, per_epoch)."""
    kind = draw(st.sampled_from(list(kinds)))
    inner = basic_schedules() if inner is None else inner
    first = draw(inner)
    if kind == "warmup":
        steps, start = draw(_sizes), draw(st.sampled_from([0.0, first.lower]))
        return ScheduleCase(
            f"warmup({first.description}, {steps}, start_value={start!r})",
            js.schedules.warmup(first.schedule, steps, start_value=start),
            lower=min(start, first.lower),
            upper=max(start, first.upper),
            continuous_at=(steps,),
        )
    if kind == "per_epoch":
        n = draw(st.integers(1, 20))
        period = first.period * n if first.period else None
        return ScheduleCase(
            f"per_epoch({first.description}, {n})",
            js.schedules.per_epoch(first.schedule, n),
            lower=first.lower,
            upper=first.upper,
            monotone=first.monotone,
            period=period,
        )
    second = draw(inner)
    if kind == "join":
        boundary = draw(_sizes)
        return ScheduleCase(
            f"join([{first.description}, {second.description}], [{boundary}])",
            js.schedules.join([first.schedule, second.schedule], [boundary]),
            lower=min(first.lower, second.lower),
            upper=max(first.upper, second.upper),
        )
    return ScheduleCase(
        f"product({first.description}, {second.description})",
        js.schedules.product(first.schedule, second.schedule),
        lower=first.lower * second.lower,
        upper=first.upper * second.upper,
        monotone="decreasing" if first.monotone == second.monotone == "decreasing" else None,
    )


def periodic_schedules() -> st.SearchStrategy[ScheduleCase]:
    """Schedules with a known ``period`` (cosine annealing, warm restarts with ``t_mult=1``, triangular
    cyclic), some stretched by ``per_epoch``; for ``assert_schedule_periodic`` without filtering."""
    periodic = st.one_of(_periodic(exact_period=True), _cyclic(exact_period=True))
    return st.one_of(periodic, combined_schedules(kinds=["per_epoch"], inner=periodic))


def monotone_schedules() -> st.SearchStrategy[ScheduleCase]:
    """Schedules with a known direction (``monotone``): decays, ``linear``, and decays under ``per_epoch``
    or ``product``; for ``assert_schedule_monotone`` without heavy filtering."""
    decays = _decays()
    candidates = st.one_of(decays, _piecewise(), combined_schedules(kinds=["per_epoch", "product"], inner=decays))
    return candidates.filter(lambda case: case.monotone is not None)


def schedules(combinators: bool = True) -> st.SearchStrategy[ScheduleCase]:
    """Valid schedules of every kind, optionally wrapped in ``warmup``/``join``/``product``/``per_epoch``."""
    if not combinators:
        return basic_schedules()
    return st.one_of(basic_schedules(), combined_schedules())


# --- optimizers ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OptimizerCase:
    """A generated optimizer configuration; ``make()`` builds it, ``description`` is the call."""

    name: str
    kwargs: dict = dataclasses.field(compare=False)

    @property
    def description(self) -> str:
        return _call(f"js.{self.name}", **self.kwargs)

    def make(self) -> js.GradientTransformation:
        return getattr(js, self.name)(**self.kwargs)

    def __repr__(self) -> str:
        return self.description


_small_lr = st.floats(1e-4, 1e-2).map(lambda x: round(x, 5))
_beta = st.floats(0.5, 0.999).map(lambda x: round(x, 3))
_decay = st.sampled_from([0.0, 1e-4, 1e-2])
_flag = st.booleans()

# Sampling ranges per optimizer, kept here rather than derived from the test suite's table
# (tests/optim_db.py): this module ships with the package and cannot import tests/, and the table
# holds single example values (nonzero, chosen so no term is compiled out) where a property test
# needs ranges of valid, well-conditioned values. tests/test_optimizers.py checks that the names
# here are the table's first-order optimizers and that every argument exists.
OPTIMIZER_ARGUMENTS: dict[str, dict[str, st.SearchStrategy]] = {
    "sgd": {"momentum": st.sampled_from([0.0, 0.5, 0.9]), "weight_decay": _decay, "maximize": st.just(False)},
    "adafactor": {"beta2_decay": st.sampled_from([-0.8, -0.5]), "weight_decay": _decay},
    "asgd": {
        "lambd": st.sampled_from([1e-4, 1e-2]),
        "alpha": st.sampled_from([0.5, 0.75]),
        "t0": st.sampled_from([1.0, 1e6]),
        "weight_decay": _decay,
    },
    "rprop": {"etas": st.just((0.5, 1.2)), "step_sizes": st.sampled_from([(1e-6, 50.0), (1e-4, 1.0)])},
    "adagrad": {
        "lr_decay": st.sampled_from([0.0, 1e-3]),
        "weight_decay": _decay,
        "initial_accumulator_value": st.sampled_from([0.0, 0.1]),
    },
    "adadelta": {"rho": _beta, "weight_decay": _decay},
    "rmsprop": {"alpha": _beta, "momentum": st.sampled_from([0.0, 0.9]), "centered": _flag, "weight_decay": _decay},
    "adam": {"betas": st.tuples(_beta, _beta), "weight_decay": _decay, "amsgrad": _flag},
    "adamw": {"betas": st.tuples(_beta, _beta), "weight_decay": _decay, "amsgrad": _flag},
    "adamax": {"betas": st.tuples(_beta, _beta), "weight_decay": _decay},
    "nadam": {"betas": st.tuples(_beta, _beta), "weight_decay": _decay, "decoupled_weight_decay": _flag},
    "radam": {"betas": st.tuples(_beta, _beta), "weight_decay": _decay, "decoupled_weight_decay": _flag},
    "sparse_adam": {"betas": st.tuples(_beta, _beta)},
    "lion": {"betas": st.tuples(_beta, _beta), "weight_decay": _decay, "decoupled_weight_decay": _flag},
    "lamb": {
        "betas": st.tuples(_beta, _beta),
        "weight_decay": _decay,
        "weight_decouple": _flag,
        "pre_norm": _flag,
        "rectify": _flag,
        "adanorm": _flag,
    },
    "lars": {
        "weight_decay": _decay,
        "momentum": st.sampled_from([0.0, 0.9]),
        # the default 1e-3 scales matrix steps by about 1e-3 |p| / |g|: too small to see in float32
        "trust_coefficient": st.sampled_from([1e-2, 0.1]),
        "nesterov": _flag,
    },
    "schedule_free_sgd": {
        "momentum": st.sampled_from([0.5, 0.9]),
        "weight_decay": _decay,
        "warmup_steps": st.sampled_from([0, 5]),
    },
    "schedule_free_adamw": {
        "betas": st.tuples(_beta, _beta),
        "weight_decay": _decay,
        "warmup_steps": st.sampled_from([0, 5]),
    },
    "prodigy": {
        # a multiplier of the distance estimate d, which starts at d0 = 1e-6: near 1, not a step size
        "learning_rate": st.sampled_from([0.5, 1.0]),
        "betas": st.tuples(_beta, _beta),
        "weight_decay": _decay,
        "use_bias_correction": _flag,
    },
}


@st.composite
def optimizers(
    draw, names: Sequence[str] | None = None, learning_rate: st.SearchStrategy[float] = _small_lr
) -> OptimizerCase:
    """Valid configurations of the first-order optimizers (``names`` restricts which).

    ``learning_rate`` is drawn for every optimizer whose ranges do not give their own (Prodigy's).
    """
    name = draw(st.sampled_from(sorted(names or OPTIMIZER_ARGUMENTS)))
    kwargs = {"learning_rate": draw(learning_rate)}
    kwargs.update({arg: draw(strategy) for arg, strategy in OPTIMIZER_ARGUMENTS[name].items()})
    return OptimizerCase(name, kwargs)


# --- parameters and metrics ----------------------------------------------------------------------

FLOAT_DTYPES = (jnp.float32, jnp.bfloat16, jnp.float16)


@st.composite
def _leaf(draw, dtypes: Sequence[Any]):
    shape = tuple(draw(st.lists(st.integers(1, 4), max_size=3)))
    dtype = draw(st.sampled_from(list(dtypes)))
    seed = draw(st.integers(0, 2**31 - 1))
    values = np.random.RandomState(seed).uniform(-2.0, 2.0, size=shape)
    return jnp.asarray(values, dtype)


def pytrees(dtypes: Sequence[Any] = FLOAT_DTYPES, max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Random parameter pytrees: nested dicts/lists/tuples of float arrays of mixed shapes and dtypes."""
    leaves = _leaf(dtypes)
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.dictionaries(st.sampled_from(["w", "b", "kernel", "scale", "layer"]), children, min_size=1, max_size=3),
            st.lists(children, min_size=1, max_size=3),
            st.lists(children, min_size=1, max_size=3).map(tuple),
        ),
        max_leaves=max_leaves,
    )


@st.composite
def metric_sequences(draw, min_size: int = 1, max_size: int = 60) -> list[float]:
    """Metric sequences for the plateau: noisy trends with NaN, negative and constant stretches."""
    size = draw(st.integers(min_size, max_size))
    values: list[float] = []
    level = draw(st.floats(-5.0, 5.0))
    while len(values) < size:
        stretch = draw(st.sampled_from(["trend", "constant", "nan", "negative", "noise"]))
        length = draw(st.integers(1, 8))
        if stretch == "trend":
            slope = draw(st.floats(-0.5, 0.5))
            values += [level + slope * i for i in range(length)]
            level += slope * length
        elif stretch == "constant":
            values += [level] * length
        elif stretch == "nan":
            values += [float("nan")] * min(length, 2)
        elif stretch == "negative":
            values += [-abs(level) - draw(st.floats(0.0, 1.0)) for _ in range(length)]
        else:
            values += [level + draw(st.floats(-1.0, 1.0)) for _ in range(length)]
    return [float(np.float32(v)) for v in values[:size]]
