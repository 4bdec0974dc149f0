"""Regenerate tests/golden/reference_optimizers_schedule_free.npz (needs schedulefree==1.4.1).

    python tests/golden/generate_reference_optimizers_schedule_free.py

Runs the reference side of every ``REFERENCE_CASES`` entry of tests/test_optim_schedule_free.py in
float64 (``tests.schedule_free_parity.run_reference``) and stores, per case, ``<name>/params`` (the
parameters before and after each step, in train mode) and ``<name>/eval`` (the parameters after
``optimizer.eval()`` following each step). Prodigy's trajectories are in tests/golden/optimizers.npz
with the other entries of tests/optim_db.py (``tests/golden/generate.py prodigy``).
Values come from the reference only, never from jaxsched.
"""

import importlib
import importlib.metadata
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent.parent))

from tests.schedule_free_parity import GOLDEN, run_reference


def main() -> None:
    for package in ("torch", "schedulefree"):
        print(f"{package} {importlib.metadata.version(package)}")
    values = {}
    for name, case in importlib.import_module("tests.test_optim_schedule_free").REFERENCE_CASES.items():
        for kind, rows in run_reference(case).items():
            values[f"{name}/{kind}"] = rows
    np.savez_compressed(GOLDEN, **values)
    print(f"wrote {len(values)} arrays to {GOLDEN}")


if __name__ == "__main__":
    main()
