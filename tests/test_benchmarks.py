"""Smoke test: the benchmark script's pieces run on tiny inputs (no timing is asserted here)."""

import importlib.util
import pathlib

import jax
import pytest

import jaxsched as js

_SCRIPT = pathlib.Path(__file__).parent.parent / "benchmarks" / "run.py"
_SPEC = importlib.util.spec_from_file_location("benchmarks_run", _SCRIPT)
run = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(run)


def test_side_by_side_steps_every_available_library():
    runners = {"jaxsched": run.JaxStep(js.adam(1e-3), total=1000, leaves=10)}
    if run.HAS_OPTAX:
        runners["optax"] = run.JaxStep(run.OPTIMIZERS["adam"][1](), total=1000, leaves=10)
    if run.HAS_TORCH:
        runners["fused"] = run.TorchStep.make("Adam", dict(lr=1e-3), 1000, 10, "fused")
    medians = run.side_by_side(runners, repeats=2, warmup=1)
    assert set(medians) == set(runners) and all(ms > 0 for ms in medians.values())


def test_unsupported_torch_variant_is_skipped():
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch not installed")
    assert run.TorchStep.make("RMSprop", dict(lr=1e-2), 100, 2, "fused") is None


def test_step_rows_measure_plain_and_flattened_steps(monkeypatch):
    monkeypatch.setattr(run, "SIZES", [(2000, 20, "distinct", ("sgd", "adam"))])
    header, _, *rows = "\n".join(run.step_rows(repeats=1, only={"adam"})).splitlines()
    assert len(rows) == 1 and rows[0].startswith("| adam | 0.002M / 20 distinct sizes |")
    assert rows[0].count("|") == header.count("|") == 26
    gpt = run.make_params(11_705_856, 148, "gpt-like")  # checks its own size and leaf count
    assert sum(x.size <= 16384 for x in jax.tree.leaves(gpt)) == 98
    for sizes in ("equal", "distinct"):
        assert sum(run.leaf_sizes(2000, 20, sizes)) == 2000
    assert len(set(run.leaf_sizes(2000, 20, "distinct"))) == 20


def test_table_rows_are_complete():
    rows = [*run.schedule_rows(repeats=1), *run.sweep_rows(repeats=1)]
    assert all(row.startswith("| ") and row.endswith("|") for row in rows)
    assert "| 0 |" in rows[-1]  # no recompile when a float learning rate changes


def test_benchmarked_optimizers_are_in_the_tests_table():
    assert set(run.OPTIMIZERS) <= set(run.OPTIM_DB)
    assert [run.row_name(name) for name in ("sgd", "adam")] == ["sgd(momentum)", "adam"]


def test_optax_optimizer_gap_measures_what_the_readme_states():
    """benchmarks/optax_optimizer_gap.py: the pairs build and run; optax.lion without its default
    weight decay is lion-pytorch's Lion exactly (the README's "equal otherwise")."""
    if importlib.util.find_spec("optax") is None:
        pytest.skip("optax not installed")
    script = pathlib.Path(__file__).parent.parent / "benchmarks" / "optax_optimizer_gap.py"
    spec = importlib.util.spec_from_file_location("optax_optimizer_gap", script)
    gap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gap)
    with jax.enable_x64(True):
        ours, theirs, _ = gap.cases()["lion, weight_decay=0 in optax"]
        assert (gap.trajectory_end(ours) == gap.trajectory_end(theirs)).all()
        ours, theirs, _ = gap.cases()["lion, defaults"]
        assert (gap.trajectory_end(ours) != gap.trajectory_end(theirs)).any()
