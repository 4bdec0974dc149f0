"""The public API recorded in tests/public_api.json must survive refactors: names may be added, not lost.

Recorded: ``dir(jaxsched)``, the ``__all__`` of jaxsched and its public subpackages, and the
parameter names and defaults of every function in ``jaxsched.optimizers.__all__``. After an
intended change of the API, rewrite the record with ``python -m tests.test_public_api``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pathlib

import pytest

RECORD = pathlib.Path(__file__).with_name("public_api.json")
MODULES = ("jaxsched", "jaxsched.schedules", "jaxsched.transforms", "jaxsched.optimizers")


def signature(function) -> list[list]:
    """``[name, repr(default) or None]`` per parameter, in order."""
    return [
        [name, None if p.default is inspect.Parameter.empty else repr(p.default)]
        for name, p in inspect.signature(function).parameters.items()
    ]


def snapshot() -> dict:
    optimizers = importlib.import_module("jaxsched.optimizers")
    return {
        "dir(jaxsched)": sorted(dir(importlib.import_module("jaxsched"))),
        "__all__": {name: sorted(importlib.import_module(name).__all__) for name in MODULES},
        "signatures": {name: signature(getattr(optimizers, name)) for name in sorted(optimizers.__all__)},
    }


@pytest.fixture(scope="module")
def recorded():
    return json.loads(RECORD.read_text())


@pytest.fixture(scope="module")
def current():
    return snapshot()


def test_every_recorded_public_name_still_exists(recorded, current):
    # Names with a leading underscore (dunders, private modules) are free to change.
    public = [name for name in recorded["dir(jaxsched)"] if not name.startswith("_")]
    assert sorted(set(public) - set(current["dir(jaxsched)"])) == []


@pytest.mark.parametrize("module", MODULES)
def test_every_recorded_name_is_still_exported(module, recorded, current):
    assert sorted(set(recorded["__all__"][module]) - set(current["__all__"][module])) == []
    exported = importlib.import_module(module)
    assert [name for name in current["__all__"][module] if not hasattr(exported, name)] == []


def test_optimizer_signatures_only_grow(recorded, current):
    # Recorded parameters keep their names, order and defaults; new ones may follow, with a default
    # (torch 2.13's Adam added decoupled_weight_decay that way), so every existing call still works.
    changed = {}
    for name, parameters in recorded["signatures"].items():
        now = current["signatures"].get(name)
        if now is None or now[: len(parameters)] != parameters or any(d is None for _, d in now[len(parameters) :]):
            changed[name] = now
    assert changed == {}, "parameter names or defaults changed (now: [name, repr(default)])"


if __name__ == "__main__":
    RECORD.write_text(json.dumps(snapshot(), indent=1) + "\n")
    print(f"wrote {RECORD}")
