"""Regenerate tests/golden/reference_optimizers_schedule_free.npz (needs schedulefree==1.4.1, prodigyopt==1.1.2).

    python tests/golden/generate_reference_optimizers_schedule_free.py

Runs the reference side of every ``REFERENCE_CASES`` entry of tests/test_optim_schedule_free.py and
tests/test_optim_prodigy.py in float64 (``tests.schedule_free_parity.run_reference``) and stores, per
case, ``<name>/params`` (the parameters before and after each step; schedule-free in train mode)
and ``<name>/eval`` (schedule-free: the parameters after ``optimizer.eval()`` following each step).
Values come from the reference only, never from jaxsched.
"""

import importlib
import importlib.metadata
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent.parent))

from tests.schedule_free_parity import GOLDEN, run_reference

MODULES = ("test_optim_schedule_free", "test_optim_prodigy")


def main() -> None:
    for package in ("torch", "schedulefree", "prodigyopt"):
        print(f"{package} {importlib.metadata.version(package)}")
    values = {}
    for module_name in MODULES:
        for name, case in importlib.import_module(f"tests.{module_name}").REFERENCE_CASES.items():
            for kind, rows in run_reference(case).items():
                values[f"{name}/{kind}"] = rows
    np.savez_compressed(GOLDEN, **values)
    print(f"wrote {len(values)} arrays to {GOLDEN}")


if __name__ == "__main__":
    main()
