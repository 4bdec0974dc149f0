"""torch.optim.SGD parity: every option, schedules as learning rate, parameter groups."""

import jaxsched as js
from tests.optim_parity import Case, TORCH_STEPLR, parity_tests, steplr, torch_scheduler


def _groups(tensors):
    return [
        {"params": [tensors["a_matrix"], tensors["b_vector"]]},
        {"params": [tensors["c_scalar"], tensors["d_nested"]], "lr": 0.02},
    ]


_HEAD = js.label_by_path({"c_scalar": "head", "d_nested": "head"}, default="base")

CASES = {
    "sgd_plain": Case(lambda: js.sgd(0.1), "SGD", dict(lr=0.1)),
    "sgd_momentum": Case(lambda: js.sgd(0.05, momentum=0.9), "SGD", dict(lr=0.05, momentum=0.9)),
    "sgd_dampening": Case(
        lambda: js.sgd(0.05, momentum=0.8, dampening=0.3), "SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)
    ),
    "sgd_nesterov_wd": Case(
        lambda: js.sgd(0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        "SGD",
        dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    ),
    "sgd_maximize_wd": Case(
        lambda: js.sgd(0.01, momentum=0.5, weight_decay=0.1, maximize=True),
        "SGD",
        dict(lr=0.01, momentum=0.5, weight_decay=0.1, maximize=True),
    ),
    "sgd_steplr": Case(
        lambda: js.sgd(steplr(0.1), momentum=0.9),
        "SGD",
        dict(lr=0.1, momentum=0.9),
        torch_scheduler=TORCH_STEPLR,
    ),
    "sgd_param_groups": Case(
        lambda: js.partition({"base": js.sgd(0.1, momentum=0.9), "head": js.sgd(0.02, momentum=0.9)}, _HEAD),
        "SGD",
        dict(lr=0.1, momentum=0.9),
        torch_groups=_groups,
    ),
    "sgd_groups_lambdalr": Case(
        lambda: js.partition(
            {"base": js.sgd(lambda t: 0.1 * 0.9**t, momentum=0.9), "head": js.sgd(lambda t: 0.02 / (1 + t), momentum=0.9)},
            _HEAD,
        ),
        "SGD",
        dict(lr=0.1, momentum=0.9),
        torch_groups=_groups,
        torch_scheduler=torch_scheduler("LambdaLR", [lambda e: 0.9**e, lambda e: 1 / (1 + e)]),
    ),
    # torch's CyclicLR(cycle_momentum=True) moves SGD's momentum against the lr, every step
    "sgd_cyclic_lr_and_momentum": Case(
        lambda: js.sgd(
            js.schedules.cyclic(0.01, 0.1, step_size_up=5, step_size_down=8, mode="triangular2"),
            momentum=js.schedules.cyclic_momentum(0.8, 0.9, step_size_up=5, step_size_down=8, mode="triangular2"),
        ),
        "SGD",
        dict(lr=0.01, momentum=0.9),
        torch_scheduler=torch_scheduler(
            "CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=5, step_size_down=8, mode="triangular2",
            cycle_momentum=True, base_momentum=0.8, max_momentum=0.9,
        ),
    ),
}

test_matches_golden_torch_trajectory, test_matches_live_torch = parity_tests(CASES)
