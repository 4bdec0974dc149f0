"""The README's claim "everything torch.optim has" is checked against the installed torch.

Every public optimizer, learning-rate scheduler and ``swa_utils`` name of torch must appear in a row
of one of the README's mapping tables, next to the jaxsched name it maps to, so a torch release that
adds one fails here instead of silently breaking the claim.
"""

import inspect
import pathlib
import re

import pytest

torch = pytest.importorskip("torch")

README = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
BASE_CLASSES = {"Optimizer", "LRScheduler"}


def _table_rows() -> list[tuple[str, str]]:
    rows = []
    for line in README.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and not set(cells[0]) <= set("-: "):
            rows.append((cells[0], cells[1]))
    return rows


def _torch_names() -> list[str]:
    optimizers = [
        n for n, o in vars(torch.optim).items() if inspect.isclass(o) and issubclass(o, torch.optim.Optimizer)
    ]
    schedulers = [
        n
        for n, o in vars(torch.optim.lr_scheduler).items()
        if inspect.isclass(o)
        and issubclass(o, (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau))
    ]
    names = set(optimizers + schedulers + list(torch.optim.swa_utils.__all__)) - BASE_CLASSES
    return sorted(n for n in names if not n.startswith("_"))


@pytest.mark.parametrize("name", _torch_names())
def test_readme_maps_every_torch_name(name):
    mentioned = re.compile(rf"`(?:[\w.]*\.)?{name}\b")
    mapped = [
        jaxsched for torch_cell, jaxsched in _table_rows() if mentioned.search(torch_cell) and jaxsched.strip("`")
    ]
    assert mapped, f"torch.optim's {name} has no row in README.md's mapping tables"


def test_the_enumeration_finds_torchs_names():
    assert {"SGD", "Adam", "Adafactor", "Muon", "StepLR", "ReduceLROnPlateau", "SWALR", "AveragedModel"} <= set(
        _torch_names()
    )
