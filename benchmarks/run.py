"""jaxsched vs optax vs torch: optimizer step time, compile time, schedules, a vmapped sweep, memory.

Run from the repository root::

    python benchmarks/run.py            # full table (a few minutes on 2 cores)
    python benchmarks/run.py --quick    # fewer repeats

Every row is measured side by side in one process: each library's jitted train step (update and
``apply_updates`` in one ``jax.jit`` with params and optimizer state donated) is compiled, warmed up,
then the libraries take turns step by step in a rotating order, so machine noise hits all of them
alike; the median is reported. torch runs in a block of its own right after the JAX steps of the
same row, because its idle OpenMP threads keep spinning for a while and would slow a JAX step that
follows. torch and optax are optional: their columns read ``-`` when missing. Speed claims live here
only, never in unit tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # for the tests' optimizer table

import jaxsched as js
from jaxsched._fused import kernel_module
from tests.optim_db import OPTIMIZERS as OPTIM_DB
from tests.optim_parity import torch_kwargs

HAS_OPTAX = importlib.util.find_spec("optax") is not None
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_KERNEL = kernel_module() is not None
if HAS_OPTAX:
    import optax
if HAS_TORCH:
    import torch

MISSING = "-"
TORCH_IDLE_S = 0.02

# name in tests/optim_db.py (which gives the jaxsched constructor and the torch class) -> (jaxsched
# arguments, torch's derived from them, and the optax equivalent): the same math on each side
OPTIMIZERS = {
    "sgd": (dict(learning_rate=1e-2, momentum=0.9), lambda: optax.sgd(1e-2, momentum=0.9)),
    "adam": (dict(learning_rate=1e-3), lambda: optax.adam(1e-3)),
    "adamw": (dict(learning_rate=1e-3), lambda: optax.adamw(1e-3, weight_decay=1e-2)),
    "rmsprop": (dict(learning_rate=1e-2), lambda: optax.rmsprop(1e-2, decay=0.99, eps=1e-8)),
    "adagrad": (dict(learning_rate=1e-2), lambda: optax.adagrad(1e-2, initial_accumulator_value=0.0, eps=1e-10)),
    # torch has no fused kernel for these three (foreach only); optax's NAdam has no momentum schedule
    "adamax": (dict(learning_rate=2e-3), lambda: optax.adamax(2e-3)),
    "nadam": (dict(learning_rate=2e-3), lambda: optax.nadam(2e-3)),
    "radam": (dict(learning_rate=1e-3), lambda: optax.radam(1e-3)),
}
# (total params, leaves, leaf sizes, optimizers measured). Equal sizes let XLA compile one kernel per
# shape and reuse it for every leaf; real models have many distinct shapes, so one row has those too.
SIZES = [
    (10_000_000, 200, "equal", tuple(OPTIMIZERS)),
    (1_000_000, 1000, "equal", tuple(OPTIMIZERS)),
    (1_000_000, 1000, "distinct", ("adam",)),
    (11_705_856, 148, "gpt-like", ("adam",)),
]
SIZE_LABELS = {"equal": "", "distinct": " distinct sizes", "gpt-like": " GPT-like"}


def row_name(name: str) -> str:
    """The optimizer's name with the arguments it is measured with besides the learning rate: ``sgd(momentum)``."""
    others = [argument for argument in OPTIMIZERS[name][0] if argument != "learning_rate"]
    return f"{name}({', '.join(others)})" if others else name


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def leaf_sizes(total: int, leaves: int, sizes: str) -> list[int]:
    """``leaves`` sizes summing to ``total``: all equal, or all different (around the mean)."""
    mean = total // leaves
    result = [mean] * leaves if sizes == "equal" else [mean - leaves // 2 + i for i in range(leaves)]
    result[-1] += total - sum(result)
    return result


def gpt_like_params(
    rng: np.random.Generator, width: int = 256, layers: int = 12, vocab: int = 8192, context: int = 512
):
    """The parameter tree of a small GPT-2-style model: 148 leaves, 98 of them biases and norms."""

    def normal(*shape):
        return jnp.asarray(rng.standard_normal(shape, np.float32) * 0.02)

    def norm():
        return {"scale": normal(width), "bias": normal(width)}

    params = {"wte": normal(vocab, width), "wpe": normal(context, width), "ln_f": norm()}
    for i in range(layers):
        params[f"h{i:02d}"] = {
            "ln1": norm(),
            "attn": {
                "qkv": normal(width, 3 * width),
                "qkv_b": normal(3 * width),
                "proj": normal(width, width),
                "proj_b": normal(width),
            },
            "ln2": norm(),
            "mlp": {
                "fc": normal(width, 4 * width),
                "fc_b": normal(4 * width),
                "out": normal(4 * width, width),
                "out_b": normal(width),
            },
        }
    return params


def make_params(total: int, leaves: int, sizes: str = "equal", seed: int = 0) -> dict:
    """``leaves`` float32 leaves of ``total`` parameters (sizes "equal" or "distinct"), or the GPT-like tree."""
    rng = np.random.default_rng(seed)
    if sizes == "gpt-like":
        params = gpt_like_params(rng)
        assert (total, leaves) == (sum(x.size for x in jax.tree.leaves(params)), len(jax.tree.leaves(params)))
        return params
    return {
        f"layer{i:04d}": jnp.asarray(rng.standard_normal(size, np.float32))
        for i, size in enumerate(leaf_sizes(total, leaves, sizes))
    }


class JaxStep:
    """A jitted, donating train step of one optax-style transformation; call ``once()`` to take a step.

    The step is ``update`` then ``apply_updates``, or with ``in_place`` js.fused's one-pass ``step``.
    """

    def __init__(self, tx, total: int, leaves: int, sizes: str = "equal", in_place: bool = False):
        self.params = make_params(total, leaves, sizes)
        self.grads = jax.tree.map(lambda p: 1e-3 * p, self.params)
        self.state = tx.init(self.params)

        def step(params, state, grads):
            if in_place:  # js.fused's step: the kernel writes the parameters, no update array
                return tx.step(grads, state, params)
            updates, state = tx.update(grads, state, params)
            return js.apply_updates(params, updates), state

        start = time.perf_counter()
        self.compiled = jax.jit(step, donate_argnums=(0, 1)).lower(self.params, self.state, self.grads).compile()
        self.compile_s = time.perf_counter() - start

    def once(self) -> float:
        start = time.perf_counter()
        self.params, self.state = self.compiled(self.params, self.state, self.grads)
        jax.block_until_ready((self.params, self.state))
        return time.perf_counter() - start


class FloorStep:
    """The physical limit of an Adam step: one C loop over one float32 array each of p, g, m and v.

    4 reads and 3 in-place writes per element (28 bytes), no math to speak of: the compiled
    kernel's ``jaxsched_floor`` target, jitted and donated like the train steps.
    """

    def __init__(self, total: int):
        vector = jax.ShapeDtypeStruct((total,), jnp.float32)
        floor = jax.ffi.ffi_call("jaxsched_floor", [vector] * 3, input_output_aliases={0: 0, 2: 1, 3: 2})
        self.grad = jnp.full(total, 1e-3, jnp.float32)
        self.state = tuple(jnp.full(total, value, jnp.float32) for value in (1.0, 0.0, 0.0))  # p, m, v

        def step(p, m, v, g):
            return floor(p, g, m, v)

        self.compiled = jax.jit(step, donate_argnums=(0, 1, 2)).lower(*self.state, self.grad).compile()

    def once(self) -> float:
        start = time.perf_counter()
        self.state = self.compiled(*self.state, self.grad)
        jax.block_until_ready(self.state)
        return time.perf_counter() - start


class TorchStep:
    """``torch.optim.<name>`` over the same leaves; ``None`` from :meth:`make` when the variant is unsupported."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    @classmethod
    def make(cls, name: str, kwargs: dict, total: int, leaves: int, variant: str, sizes: str = "equal"):
        params = jax.tree.leaves(make_params(total, leaves, sizes))
        tensors = [torch.nn.Parameter(torch.from_numpy(np.array(p))) for p in params]
        for t in tensors:
            t.grad = 1e-3 * t.detach().clone()
        try:
            optimizer = getattr(torch.optim, name)(tensors, **kwargs, **{variant: True})
        except (TypeError, RuntimeError):
            return None
        return cls(optimizer)

    def once(self) -> float:
        start = time.perf_counter()
        self.optimizer.step()
        elapsed = time.perf_counter() - start
        # torch's idle OpenMP threads spin for a while after a step: let them stop before the next
        # runner's step (untimed), so that they do not slow it down
        time.sleep(TORCH_IDLE_S)
        return elapsed


def side_by_side(runners: dict[str, object], repeats: int, warmup: int = 3) -> dict[str, float]:
    """Median step time (ms) of each runner; they take turns, in a rotating order, so noise spreads over all."""
    for runner in runners.values():
        for _ in range(warmup):
            runner.once()
    names = list(runners)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(repeats):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            samples[name].append(runners[name].once())
    return {name: median_ms(s) for name, s in samples.items()}


def settle() -> None:
    """Let torch's OpenMP workers stop spinning, so they do not steal the cores from what runs next."""
    time.sleep(0.5)


def fmt(value: float | None, digits: int = 1) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    return MISSING if a is None or b is None else f"{a / b:.2f}x"


def step_rows(repeats: int, only: set[str] | None = None) -> Iterator[str]:
    """One table row per optimizer and size, yielded as soon as it is measured.

    ``js.flatten`` is the same jaxsched optimizer with leaves of at most 16384 elements packed into
    one vector per dtype (so at 10M / 200 leaves it packs nothing and equals the plain column).
    ``js.fused`` runs it through the compiled one-pass kernel (``update`` then ``apply_updates``);
    ``js.fused step`` is its ``step``, which writes the parameters in place. "torch fused" is
    torch's ``fused=True`` where torch has it (RMSprop has none: ``-``). The one-pass floor is a C
    loop with Adam's access pattern over one array each of p, g, m, v (4 reads, 3 writes).
    """
    yield (
        "| optimizer | params / leaves | jaxsched ms | js.flatten ms | js.fused ms | js.fused step ms | optax ms "
        "| torch foreach ms | torch fused ms | one-pass floor ms | js/optax | flatten/optax | flatten/fused "
        "| js.fused/optax | js.fused/torch fused | fused step/optax | fused step/torch fused | fused step/floor "
        "| compile js s | compile flatten s | compile js.fused s | compile optax s | compile js/optax "
        "| compile flatten/optax | compile js.fused/optax |\n|" + "---|" * 25
    )
    for total, leaves, sizes, names in SIZES:
        for name in names:
            if only and name not in only:
                continue
            kwargs, make_optax = OPTIMIZERS[name]
            info = OPTIM_DB[name]
            settle()
            runners: dict[str, object] = {
                "jaxsched": JaxStep(info.make(**kwargs), total, leaves, sizes),
                "flatten": JaxStep(js.flatten(info.make(**kwargs)), total, leaves, sizes),
                "js.fused": JaxStep(js.fused(info.make(**kwargs)), total, leaves, sizes),
                "fused step": JaxStep(js.fused(info.make(**kwargs)), total, leaves, sizes, in_place=True),
            }
            if HAS_KERNEL:  # the floor is a target of the compiled kernel
                runners["floor"] = FloorStep(total)
            if HAS_OPTAX:
                runners["optax"] = JaxStep(make_optax(), total, leaves, sizes)
            if HAS_TORCH:  # in the same rotation: the machine's memory bandwidth drifts over a row
                for variant in ("foreach", "fused"):
                    torch_step = TorchStep.make(
                        info.torch_optimizer, torch_kwargs(kwargs), total, leaves, variant, sizes
                    )
                    if torch_step is not None:
                        runners[variant] = torch_step
            ms = side_by_side(runners, repeats)
            compile_s = {library: getattr(runner, "compile_s", None) for library, runner in runners.items()}
            del runners
            label = f"{total / 1e6:.3g}M / {leaves}" + SIZE_LABELS[sizes]
            yield (
                f"| {row_name(name)} | {label} "
                f"| {fmt(ms['jaxsched'], 2)} | {fmt(ms['flatten'], 2)} | {fmt(ms['js.fused'], 2)} "
                f"| {fmt(ms['fused step'], 2)} | {fmt(ms.get('optax'), 2)} | {fmt(ms.get('foreach'), 2)} "
                f"| {fmt(ms.get('fused'), 2)} | {fmt(ms.get('floor'), 2)} | {ratio(ms['jaxsched'], ms.get('optax'))} "
                f"| {ratio(ms['flatten'], ms.get('optax'))} | {ratio(ms['flatten'], ms.get('fused'))} "
                f"| {ratio(ms['js.fused'], ms.get('optax'))} | {ratio(ms['js.fused'], ms.get('fused'))} "
                f"| {ratio(ms['fused step'], ms.get('optax'))} | {ratio(ms['fused step'], ms.get('fused'))} "
                f"| {ratio(ms['fused step'], ms.get('floor'))} "
                f"| {fmt(compile_s['jaxsched'], 2)} | {fmt(compile_s['flatten'], 2)} | {fmt(compile_s['js.fused'], 2)} "
                f"| {fmt(compile_s.get('optax'), 2)} | {ratio(compile_s['jaxsched'], compile_s.get('optax'))} "
                f"| {ratio(compile_s['flatten'], compile_s.get('optax'))} "
                f"| {ratio(compile_s['js.fused'], compile_s.get('optax'))} |"
            )


def kernel_floor_rows(repeats: int) -> Iterator[str]:
    """js.fused's ``step`` at 10M params as one leaf and as 200, against the one-pass floor (one array each).

    One leaf measures the kernel itself (its math against pure memory traffic); the difference to 200
    leaves is the cost of the 597 more arrays that cross the jitted step's boundary (200 parameters
    and 200 gradients in, 200 parameters out, instead of 1, 1 and 1).
    """
    total = 10_000_000
    yield (
        "| optimizer | fused step, 1 leaf ms | fused step, 200 leaves ms | floor ms | 1 leaf/floor "
        "| 200 leaves/floor | cost per extra array us |\n|---|---|---|---|---|---|---|"
    )
    for name in ("adam", "adamw", "sgd", "rmsprop", "adagrad"):
        kwargs, _ = OPTIMIZERS[name]
        info = OPTIM_DB[name]
        settle()
        ms = side_by_side(
            {
                "one": JaxStep(js.fused(info.make(**kwargs)), total, 1, in_place=True),
                "many": JaxStep(js.fused(info.make(**kwargs)), total, 200, in_place=True),
                "floor": FloorStep(total),
            },
            repeats,
        )
        per_array_us = (ms["many"] - ms["one"]) * 1e3 / (3 * 200 - 3)
        yield (
            f"| {row_name(name)} | {fmt(ms['one'], 2)} | {fmt(ms['many'], 2)} | {fmt(ms['floor'], 2)} "
            f"| {ratio(ms['one'], ms['floor'])} | {ratio(ms['many'], ms['floor'])} | {fmt(per_array_us, 2)} |"
        )


def deep_chain_compile_row() -> list[str]:
    """First compile of a train step whose optimizer is a 6-deep chain, over 100 leaves."""
    total, leaves = 100_000, 100
    times = {
        "jaxsched": JaxStep(
            js.chain(
                js.clip_by_global_norm(1.0),
                js.clip(1.0),
                js.add_weight_decay(1e-4),
                js.adam(1e-3),
                js.clip(1.0),
                js.clip_by_global_norm(10.0),
            ),
            total,
            leaves,
        ).compile_s
    }
    if HAS_OPTAX:
        times["optax"] = JaxStep(
            optax.chain(
                optax.clip_by_global_norm(1.0),
                optax.clip(1.0),
                optax.add_decayed_weights(1e-4),
                optax.adam(1e-3),
                optax.clip(1.0),
                optax.clip_by_global_norm(10.0),
            ),
            total,
            leaves,
        ).compile_s
    row = (
        f"| compile, 6-deep chain (0.1M / 100 leaves) | {fmt(times['jaxsched'], 2)} s | "
        f"{fmt(times.get('optax'), 2)} s | {ratio(times['jaxsched'], times.get('optax'))} |"
    )
    return [row]


def timed_call(fn: Callable, *args, repeats: int) -> float:
    jax.block_until_ready(fn(*args))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - start)
    return median_ms(samples)


def schedule_rows(repeats: int) -> list[str]:
    """Evaluate a schedule at 1M steps in one jitted call: jaxsched's are vectorised, optax's need ``vmap``."""
    total = 1_000_000
    steps = jnp.arange(total)
    pairs = {
        "warmup + cosine": (
            lambda: js.schedules.warmup(js.schedules.cosine_decay(1e-3, total - 10_000), 10_000),
            lambda: optax.warmup_cosine_decay_schedule(0.0, 1e-3, 10_000, total),
        ),
        "one_cycle": (
            lambda: js.schedules.one_cycle(1e-3, total),
            lambda: optax.cosine_onecycle_schedule(total, 1e-3),
        ),
    }
    rows = []
    for name, (make_js, make_optax) in pairs.items():
        ms_js = timed_call(jax.jit(make_js()), steps, repeats=repeats)
        ms_optax = timed_call(jax.jit(jax.vmap(make_optax())), steps, repeats=repeats) if HAS_OPTAX else None
        cells = f"{fmt(ms_js, 2)} ms | {fmt(ms_optax, 2)} ms | {ratio(ms_js, ms_optax)}"
        rows.append(f"| {name}, 1M steps vectorised | {cells} |")
    return rows


def sweep_rows(repeats: int) -> list[str]:
    """64 learning rates of one MLP train step under ``vmap``: one compile, vs 64 separate steps."""
    rng = np.random.default_rng(0)
    params = {
        "w1": jnp.asarray(rng.standard_normal((64, 256), np.float32) * 0.1),
        "w2": jnp.asarray(rng.standard_normal((256, 10), np.float32) * 0.1),
    }
    x = jnp.asarray(rng.standard_normal((128, 64), np.float32))
    y = jnp.asarray(rng.standard_normal((128, 10), np.float32))
    tx = js.adam(1e-3)

    def loss(p):
        return jnp.mean((jnp.tanh(x @ p["w1"]) @ p["w2"] - y) ** 2)

    def train_step(p, state):
        updates, state = tx.update(jax.grad(loss)(p), state, p)
        return js.apply_updates(p, updates), state

    learning_rates = jnp.logspace(-4, -1, 64)
    states = jax.vmap(lambda lr: js.set_hyperparams(tx.init(params), learning_rate=lr))(learning_rates)
    stacked = jax.tree.map(lambda p: jnp.broadcast_to(p, (64, *p.shape)), params)
    swept = jax.jit(jax.vmap(train_step))
    single = jax.jit(train_step)
    ms_sweep = timed_call(swept, stacked, states, repeats=repeats)
    one_state = tx.init(params)
    for lr in (1e-3, 2e-3, 3e-3):  # changing the float must not recompile
        one_state = js.set_hyperparams(one_state, learning_rate=lr)
        single(params, one_state)
    ms_single = timed_call(single, params, one_state, repeats=repeats)
    sweep = (
        f"| lr sweep: vmap over 64 learning rates (compiles: {swept._cache_size()}) | {fmt(ms_sweep, 2)} ms "
        f"| 64 x single step {fmt(64 * ms_single, 2)} ms | {ratio(ms_sweep, 64 * ms_single)} |"
    )
    recompiles = (
        f"| recompiles after changing a float learning rate 3 times | {single._cache_size() - 1} | "
        f"{optax_recompiles(params, train_step_loss=loss) if HAS_OPTAX else MISSING} | |"
    )
    return [sweep, recompiles]


def optax_recompiles(params, train_step_loss) -> int:
    """optax bakes a float learning rate into the closure: every new value is a new compile."""
    compiles = 0
    for lr in (1e-3, 2e-3, 3e-3, 4e-3):
        tx = optax.adam(lr)

        def step(p, s, tx=tx):
            updates, s = tx.update(jax.grad(train_step_loss)(p), s, p)
            return optax.apply_updates(p, updates), s

        jitted = jax.jit(step)
        jitted(params, tx.init(params))
        compiles += jitted._cache_size()
    return compiles - 1


def peak_mib(tx, total: int, leaves: int, in_place: bool = False) -> tuple[float, float]:
    """(peak, arguments) in MiB of one donated train step, from XLA's buffer plan.

    ``compiled.memory_analysis()``: arguments (params + grads + state) + outputs - outputs aliased to
    donated arguments + temporaries. With full donation and no temporaries the peak equals the arguments.
    """
    plan = JaxStep(tx, total, leaves, in_place=in_place).compiled.memory_analysis()
    peak = plan.argument_size_in_bytes + plan.output_size_in_bytes - plan.alias_size_in_bytes + plan.temp_size_in_bytes
    return peak / 2**20, plan.argument_size_in_bytes / 2**20


def memory_rows() -> list[str]:
    """Peak memory of a donated Adam step: plain and fused at 10M / 200 leaves, flattened at 1M / 1000 leaves."""
    rows = []
    for label, make_js, total, leaves, in_place in [
        ("adam", lambda: js.adam(1e-3), 10_000_000, 200, False),
        ("js.flatten(adam)", lambda: js.flatten(js.adam(1e-3)), 1_000_000, 1000, False),
        ("js.fused(adam)", lambda: js.fused(js.adam(1e-3)), 10_000_000, 200, False),
        ("js.fused(adam).step", lambda: js.fused(js.adam(1e-3)), 10_000_000, 200, True),
    ]:
        peaks = {"jaxsched": peak_mib(make_js(), total, leaves, in_place)}
        if HAS_OPTAX:
            peaks["optax"] = peak_mib(optax.adam(1e-3), total, leaves)

        def cell(name):
            return f"{fmt(peaks[name][0])} MiB (arguments {fmt(peaks[name][1])})" if name in peaks else MISSING

        optax_peak = peaks["optax"][0] if "optax" in peaks else None
        rows.append(
            f"| peak memory, donated {label} step, {total / 1e6:g}M params / {leaves} leaves | {cell('jaxsched')} "
            f"| {cell('optax')} | {ratio(peaks['jaxsched'][0], optax_peak)} |"
        )
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
        cpu = names[0] if names else cpu
    versions = f"jax {jax.__version__}" + (f", optax {optax.__version__}" if HAS_OPTAX else "")
    versions += f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if HAS_TORCH else ""
    flags = f"; XLA_FLAGS={os.environ['XLA_FLAGS']}" if os.environ.get("XLA_FLAGS") else ""
    return f"{cpu}, {os.cpu_count()} cores, {jax.default_backend()} backend; {versions}{flags}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (noisier, about half the time)")
    parser.add_argument("--optimizers", nargs="+", choices=sorted(OPTIMIZERS), help="step-time rows of these only")
    parser.add_argument("--steps-only", action="store_true", help="only the step-time table")
    args = parser.parse_args()
    repeats = 7 if args.quick else 25
    print(f"machine: {machine()}\nload average at start: {os.getloadavg()}\n", flush=True)
    print("## Step time (ms, median) and first compile of the train step (s)\n")
    for row in step_rows(repeats, set(args.optimizers or ())):
        print(row, flush=True)
    if args.steps_only:
        return
    if HAS_KERNEL:
        print("\n## js.fused's kernel against the one-pass floor (10M params, step, float32)\n")
        for row in kernel_floor_rows(repeats):
            print(row, flush=True)
    print("\n## Compile, schedules, sweep, memory\n\n| what | jaxsched | optax / baseline | ratio |\n|---|---|---|---|")
    for row in [*deep_chain_compile_row(), *schedule_rows(repeats), *sweep_rows(repeats), *memory_rows()]:
        print(row, flush=True)
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
