"""Regenerate tests/golden/lbfgs.npz from torch.optim.LBFGS (needs torch==2.13.0).

    python tests/golden/generate_lbfgs.py

Runs the torch side of every case in ``tests/test_lbfgs.py`` (``CASES``: whole ``step(closure)``
calls; ``LINE_SEARCH_CASES``: torch's ``_strong_wolfe`` alone) and stores what torch computed.
Values come from torch only, never from jaxsched.
"""

import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import torch  # noqa: E402

from tests.test_lbfgs import CASES, GOLDEN, LINE_SEARCH_CASES, run_torch, run_torch_line_search  # noqa: E402


def main() -> None:
    print(f"torch {torch.__version__}")
    values = {}
    for name, case in CASES.items():
        values.update({f"{name}/{field}": rows for field, rows in run_torch(case).items()})
    for name, case in LINE_SEARCH_CASES.items():
        values.update({f"line_search/{name}/{field}": v for field, v in run_torch_line_search(case).items()})
    np.savez_compressed(GOLDEN, **values)
    print(f"wrote {len(CASES)} optimizer and {len(LINE_SEARCH_CASES)} line-search cases to {GOLDEN}")


if __name__ == "__main__":
    main()
