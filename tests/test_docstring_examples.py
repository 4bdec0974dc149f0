"""Every ``Example::`` block in a public docstring runs, and its ``# value`` comments hold.

The blocks are collected from the objects the public modules export (``__all__``), deduplicated by
identity (``js.adam`` is ``js.optimizers.adam``), and from the docstrings of the public ``testing``
modules. Each runs in a namespace with what the examples take for granted: ``js``, ``jax``, ``jnp``,
``np``, ``optax``, a small ``params`` pytree, ``grads`` like it, ``loss_fn``, ``batch``, an Adam ``tx``
with its ``state``, and a two-group (``base``/``head``) ``opt_state`` with its plateau ``pstate``.

A line ``expression  # literal`` (``sched(jnp.arange(3))   # [0.1, 0.1, 0.1]``) is checked: the value
must equal the literal to float32 precision. Comments that are not Python literals are prose.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import textwrap
import types

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsched as js
import jaxsched.testing

EXAMPLE_MARKER = "Example::"


def public_objects() -> dict[str, object]:
    """``{public name: object}`` for everything the public modules export, the first name of each object."""
    modules = {
        "jaxsched": js,
        "jaxsched.schedules": js.schedules,
        "jaxsched.transforms": js.transforms,
        "jaxsched.testing": jaxsched.testing,
    }
    objects: dict[str, object] = {}
    seen: set[int] = set()
    for module_name, module in modules.items():
        for name in module.__all__:
            obj = getattr(module, name)
            if id(obj) not in seen:
                seen.add(id(obj))
                objects[f"{module_name}.{name}"] = obj
    # The testing modules show how to use them in their own docstrings.
    objects["jaxsched.testing"] = jaxsched.testing
    if importlib.util.find_spec("hypothesis") is not None:  # the strategies need the test extra
        from jaxsched.testing import strategies

        objects["jaxsched.testing.strategies"] = strategies
    return objects


def example_blocks(docstring: str) -> list[str]:
    """The indented blocks after the lines ending in ``Example::``, dedented."""
    lines = inspect.cleandoc(docstring).splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if not line.rstrip().endswith(EXAMPLE_MARKER):
            continue
        marker_indent = len(line) - len(line.lstrip())
        block = []
        for following in lines[index + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= marker_indent:
                break
            block.append(following)
        blocks.append(textwrap.dedent("\n".join(block)).strip("\n"))
    return blocks


def collect_examples() -> dict[str, str]:
    """``{test id: code}``; an object with several examples gets ids ``name``, ``name[2]``, ..."""
    examples = {}
    for name, obj in public_objects().items():
        docstring = obj.__doc__ if isinstance(obj, types.ModuleType) else inspect.getdoc(obj)
        for number, block in enumerate(example_blocks(docstring or ""), start=1):
            examples[name if number == 1 else f"{name}[{number}]"] = block
    return examples


EXAMPLES = collect_examples()


def base_namespace() -> dict[str, object]:
    params = {"w": jnp.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]]), "b": jnp.array([0.1, -0.2])}
    grads = jax.tree.map(lambda p: 0.1 * p + 0.05, params)
    batch = (jnp.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]]), jnp.array([[1.0, 0.0], [0.0, 1.0]]))

    def loss_fn(params, batch=batch):
        inputs, targets = batch
        return jnp.mean((inputs @ params["w"] + params["b"] - targets) ** 2)

    tx = js.adam(1e-3)
    groups = js.partition({"base": js.sgd(0.1), "head": js.sgd(0.01)}, js.label_by_path({"b": "head"}, default="base"))
    return {
        "js": js,
        "jax": jax,
        "jnp": jnp,
        "np": np,
        "optax": optax,
        "params": params,
        "grads": grads,
        "batch": batch,
        "loss_fn": loss_fn,
        "tx": tx,
        "state": tx.init(params),
        "opt_state": groups.init(params),
        "pstate": js.reduce_on_plateau().init({"base": 0.1, "head": 0.01}),
    }


# The few names an example uses that only make sense for it; each entry runs before its example.
SETUP = {
    # the averaged parameters exist only in an ASGD state
    "jaxsched.asgd_averaged_params": "opt_state = js.asgd(0.01).init(params)",
    # the evaluation parameters exist only in a schedule-free state
    "jaxsched.schedule_free_eval_params": "opt_state = js.schedule_free_adamw().init(params)",
    # the loop's own variables: the epochs to run and each epoch's validation loss
    "jaxsched.reduce_on_plateau": "epochs = 3\nval_loss = jnp.float32(0.5)",
    # loading needs a file saved with the same structure
    "jaxsched.load_state": 'js.save_state("ckpt.npz", {"params": params, "opt": tx.init(params), "plateau": pstate})',
    # the controller the train step reads its learning rate from
    "jaxsched.schedule_with_plateau": (
        "ctrl = js.schedule_with_plateau(js.schedules.linear(0.0, 1.0, 10), js.reduce_on_plateau(), start_step=10)"
    ),
    # an embedding table and a gradient touching two of its rows
    "jaxsched.sparse_adam": (
        'params = {"embedding": jnp.ones((4, 3))}\ndense_grad = jnp.zeros((4, 3)).at[jnp.array([0, 2])].set(0.5)'
    ),
    # a training loop: its epochs, the epoch SWA starts at, and one epoch of it
    "jaxsched.swa": (
        "epochs, swa_start = 3, 1\n"
        "def train_one_epoch(params, opt_state):\n"
        "    return jax.tree.map(lambda p: 0.9 * p, params), opt_state"
    ),
    # a model's batch-norm statistics, averaged beside its parameters
    "jaxsched.ema": 'batch_stats = {"mean": jnp.zeros(2), "var": jnp.ones(2)}',
    # a checkpoint to inspect
    "jaxsched.checkpoint_info": 'js.save_state("ckpt.npz", {"params": params, "opt": tx.init(params)})',
    # the two weight matrices the labelled pytree holds
    "jaxsched.label_by_path": "w = jnp.ones((2, 2))\nw2 = jnp.ones((2, 1))",
    # a jitted train step and two states that differ only in the learning-rate value
    "jaxsched.testing.assert_no_recompile": """
from jaxsched.testing import assert_no_recompile

def train_step(params, state):
    updates, state = tx.update(grads, state, params)
    return js.apply_updates(params, updates), state

state_lr_1e3 = tx.init(params)
state_lr_1e4 = js.set_hyperparams(state_lr_1e3, learning_rate=1e-4)
""",
}


def expected_value(code_line: str) -> object | None:
    """The literal in ``code  # literal``, or None when the line has no such comment."""
    _, hash_mark, comment = code_line.partition("#")
    if not hash_mark:
        return None
    try:
        return ast.literal_eval(comment.strip())
    except (ValueError, SyntaxError):
        return None


def run_example(code: str, namespace: dict[str, object]) -> None:
    """Execute statement by statement, checking each expression against its ``# literal`` comment."""
    source_lines = code.splitlines()
    for statement in ast.parse(code).body:
        expected = None
        if isinstance(statement, ast.Expr) and statement.end_lineno == statement.lineno:
            expected = expected_value(source_lines[statement.lineno - 1])
        if expected is None:
            exec(compile(ast.Module([statement], type_ignores=[]), "<example>", "exec"), namespace)
            continue
        value = eval(compile(ast.Expression(statement.value), "<example>", "eval"), namespace)
        np.testing.assert_allclose(
            np.asarray(value), np.asarray(expected), rtol=1e-5, atol=1e-6, err_msg=source_lines[statement.lineno - 1]
        )


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_docstring_example_runs(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that save files (checkpoints, plots) write here
    if name == "jaxsched.plot":
        pytest.importorskip("matplotlib")
    namespace = base_namespace()
    public_name = name.split("[")[0]
    exec(textwrap.dedent(SETUP.get(public_name, "")), namespace)
    run_example(EXAMPLES[name], namespace)


def test_setup_entries_belong_to_examples():
    assert set(SETUP) <= {name.split("[")[0] for name in EXAMPLES}


@pytest.mark.parametrize(
    ("module_name", "module"), [("jaxsched.optimizers", js.optimizers), ("jaxsched.schedules", js.schedules)]
)
def test_every_optimizer_and_schedule_has_an_example(module_name, module):
    documented = {id(obj) for name, obj in public_objects().items() if name in EXAMPLES}
    constructors = [name for name in module.__all__ if not inspect.isclass(getattr(module, name))]  # not state types
    missing = [name for name in constructors if id(getattr(module, name)) not in documented]
    assert not missing, f"{module_name} exports without an Example:: block: {missing}"
