"""Run by tests/test_sharding.py in a subprocess with 8 simulated CPU devices.

For every first-order optimizer of tests/optim_db.py: state leaves (and evaluation parameters, where
the optimizer has them) follow their parameter's NamedSharding after init and after a jitted update,
and the compiled update lists its collective operations (elementwise math needs none); clipping by
global norm needs exactly the all-reduce of the norm. Prints one JSON line.
"""

import json
import os
import tempfile

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

import jaxsched as js
from tests.optim_db import FIRST_ORDER

COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute")
OPTIMIZERS = {info.name: info.build() for info in FIRST_ORDER}
EVAL_PARAMS = {info.name: info.eval_params for info in FIRST_ORDER if info.eval_params is not None}


def main():
    mesh = jax.make_mesh((8,), ("data",))
    shardings = {
        "kernel": NamedSharding(mesh, PartitionSpec("data", None)),
        "bias": NamedSharding(mesh, PartitionSpec()),
    }
    params = {
        "kernel": jax.device_put(jnp.linspace(-1.0, 1.0, 128).reshape(16, 8), shardings["kernel"]),
        "bias": jax.device_put(jnp.full((8,), 0.1), shardings["bias"]),
    }
    grads = jax.tree.map(lambda p: jnp.cos(p), params)
    report = {"devices": jax.device_count(), "results": {}}
    cases = dict(
        OPTIMIZERS,
        clipped_adam=js.chain(js.clip_by_global_norm(1.0), js.adam(1e-3)),
        # Muon takes matrices only: the usual pairing, AdamW for the rest
        muon_adamw=js.partition(
            {"muon": js.muon(0.02), "adamw": js.adamw(1e-3)},
            lambda params: jax.tree.map(lambda p: "muon" if p.ndim == 2 else "adamw", params),
        ),
    )
    for name, tx in cases.items():
        state = tx.init(params)
        step = jax.jit(lambda p, s, g, tx=tx: tx.update(g, s, p))
        _, new_state = step(params, state, grads)
        trees = [("init", state), ("update", new_state)]
        if name in EVAL_PARAMS:
            trees.append(("eval_params", jax.jit(EVAL_PARAMS[name])(new_state, params)))
        mismatched = []
        for label, tree in trees:
            for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
                key = getattr(path[-1], "key", None)
                mirrors_a_param = key in shardings and leaf.shape == params[key].shape
                if mirrors_a_param and not leaf.sharding.is_equivalent_to(shardings[key], leaf.ndim):
                    mismatched.append(f"{label}{jax.tree_util.keystr(path)}: {leaf.sharding}")
        hlo = step.lower(params, state, grads).compile().as_text()
        report["results"][name] = {
            "sharding_mismatches": mismatched,
            "collectives": sorted({c for c in COLLECTIVES if c in hlo}),
        }
    report["zero1"] = zero1_report(mesh, params, grads)
    report["fused"] = fused_report(mesh, params, grads)
    print(json.dumps(report))


def fused_report(mesh, params, grads):
    """js.fused on replicated parameters (data parallelism) and on the split ones of ``params``.

    For each: the compiled update's collectives, its kernel calls, the largest difference from the
    optimizer without fused, and the state leaves that do not have their parameter's sharding. A
    state made for replicated parameters must refuse split ones.
    """
    replicated = jax.device_put((params, grads), NamedSharding(mesh, PartitionSpec()))
    # the same placement on a mesh of Auto axes, where a trace does not see the shardings
    auto_mesh = jax.make_mesh(
        mesh.axis_sizes, mesh.axis_names, axis_types=(jax.sharding.AxisType.Auto,) * len(mesh.axis_names)
    )
    split_auto = jax.tree.map(lambda x: jax.device_put(x, NamedSharding(auto_mesh, x.sharding.spec)), (params, grads))
    report = {}
    for name, make in {
        "adam": lambda: js.adam(1e-2, weight_decay=0.1),
        "sgd": lambda: js.sgd(0.1, momentum=0.9),
        "rmsprop": lambda: js.rmsprop(1e-2, centered=True),
        "adagrad": lambda: js.adagrad(0.1),
        "sgd_without_state": lambda: js.sgd(0.1, weight_decay=0.1),
    }.items():
        expected, expected_state = make().update(grads, make().init(params), params)
        expected, _ = make().update(grads, expected_state, params)
        for placement, (p, g) in {"replicated": replicated, "split": (params, grads), "split_auto": split_auto}.items():
            tx = js.fused(make())
            state = tx.init(p)
            step = jax.jit(lambda p, s, g, tx=tx: tx.update(g, s, p))
            hlo = step.lower(p, state, g).compile().as_text()
            updates, new_state = step(p, state, g)
            updates, new_state = step(p, new_state, g)
            report[f"{name} {placement}"] = {
                "collectives": sorted({c for c in COLLECTIVES if c in hlo}),
                "kernel_calls": hlo.count("jaxsched_fused_update"),
                "max_difference": max(
                    float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
                    for a, b in zip(jax.tree.leaves(updates), jax.tree.leaves(expected))
                ),
                "sharding_mismatches": [
                    f"{jax.tree_util.keystr(path)}: {leaf.sharding}"
                    for tree in (state, new_state)
                    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]
                    if leaf.shape == params["kernel"].shape
                    and not leaf.sharding.is_equivalent_to(p["kernel"].sharding, leaf.ndim)
                ],
                "split_state_leaves": sum(
                    leaf.shape == params["kernel"].shape and not leaf.sharding.is_fully_replicated
                    for leaf in jax.tree.leaves(new_state)
                ),
                "kernel_state_leaves_without_fused": sum(
                    leaf.shape == params["kernel"].shape for leaf in jax.tree.leaves(make().init(params))
                ),
            }
        try:
            tx = js.fused(make())
            tx.update(grads, tx.init(replicated[0]), params)
            report[f"{name} refuses"] = False
        except ValueError:
            report[f"{name} refuses"] = True
    report["in use"] = fused_in_use_report(*split_auto)
    return report


def fused_in_use_report(params, grads):
    """Split parameters through js.fused inside js.partition, and its state through a checkpoint.

    The partition runs fused Adam on the split matrix and plain SGD on the bias; its step is
    compared with the same partition without fused. The fused state is saved after one step,
    loaded into a fresh state, and one more step from each must agree.
    """

    def labels(tree):
        return {"bias": "plain", "kernel": "fused"}

    def make(fused):
        adam = js.adam(1e-2, weight_decay=0.1)
        return js.partition({"fused": js.fused(adam) if fused else adam, "plain": js.sgd(0.1)}, labels)

    tx, plain = make(True), make(False)
    step = jax.jit(lambda p, s, g: tx.update(g, s, p))
    hlo = step.lower(params, tx.init(params), grads).compile().as_text()
    updates, state = step(params, tx.init(params), grads)
    expected, _ = plain.update(grads, plain.init(params), params)
    with tempfile.TemporaryDirectory() as folder:
        js.save_state(f"{folder}/state.ckpt", state)
        restored = js.load_state(f"{folder}/state.ckpt", tx.init(params))
    after_restore, _ = step(params, restored, grads)
    after_original, _ = step(params, state, grads)
    return {
        "collectives": sorted({c for c in COLLECTIVES if c in hlo}),
        "kernel_calls": hlo.count("jaxsched_fused_update"),
        "max_difference": max(
            float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
            for a, b in zip(jax.tree.leaves(updates), jax.tree.leaves(expected))
        ),
        "restored_difference": max(
            float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
            for a, b in zip(jax.tree.leaves(after_restore), jax.tree.leaves(after_original))
        ),
    }


def zero1_report(mesh, params, grads):
    """Replicated params, state split over the data axis: 1/8 of each moment per device, same numbers."""
    replicated = jax.device_put(params, NamedSharding(mesh, PartitionSpec()))
    tx = js.adam(1e-2)
    state = js.shard_state(tx.init(replicated), mesh, "data")
    state_shardings = js.zero1_shardings(state, mesh, "data")
    step = jax.jit(
        lambda p, s, g: tx.update(g, s, p), out_shardings=(NamedSharding(mesh, PartitionSpec()), state_shardings)
    )
    reference_state = tx.init(params)
    for _i in range(3):
        updates, state = step(replicated, state, grads)
        expected, reference_state = tx.update(grads, reference_state, params)
    moments = [x for x in jax.tree.leaves(state.inner_state) if x.ndim > 0]
    return {
        "shard_fractions": sorted({x.addressable_shards[0].data.size / x.size for x in moments}),
        "max_difference": max(
            float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(updates), jax.tree.leaves(expected))
        ),
    }


if __name__ == "__main__":
    main()
