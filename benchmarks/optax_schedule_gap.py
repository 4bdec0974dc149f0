"""How far the closest optax schedule is from each transformers / timm schedule: one line per schedule.

    python benchmarks/optax_schedule_gap.py

Base learning rate 1.0, ``num_warmup_steps = 100``, ``num_training_steps = 1000``, float64; the figure
is the largest ``|jaxsched - optax|`` over steps 0..1000 (jaxsched equals the reference there to
float rounding: tests/test_schedules_reference.py), plus both values at step 1005, past the end.
The numbers are in README.md's "From transformers, timm and the reference packages" table.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxsched as js

S = js.schedules
LR, WARMUP, TRAINING = 1.0, 100, 1000
DECAY = TRAINING - WARMUP


def after_warmup(schedule):
    """optax: linear warmup from 0 to LR, then ``schedule`` restarted at step WARMUP."""
    return optax.join_schedules([optax.linear_schedule(0.0, LR, WARMUP), schedule], [WARMUP])


def cases() -> dict:
    """``{name: (jaxsched schedule, closest optax schedule)}``."""
    restart = DECAY // 3
    warm_cosine = optax.warmup_cosine_decay_schedule
    return {
        "linear": (S.hf_schedule("linear", LR, WARMUP, TRAINING), after_warmup(optax.linear_schedule(LR, 0.0, DECAY))),
        "cosine": (S.hf_schedule("cosine", LR, WARMUP, TRAINING), warm_cosine(0.0, LR, WARMUP, TRAINING)),
        "cosine_with_restarts(num_cycles=3)": (
            S.hf_schedule("cosine_with_restarts", LR, WARMUP, TRAINING, num_cycles=3),
            optax.sgdr_schedule(
                [dict(init_value=0.0, peak_value=LR, warmup_steps=WARMUP, decay_steps=WARMUP + restart)]
                + [dict(init_value=LR, peak_value=LR, warmup_steps=0, decay_steps=restart)] * 2
            ),
        ),
        "polynomial(power=2)": (
            S.hf_schedule("polynomial", LR, WARMUP, TRAINING, power=2.0),
            after_warmup(optax.polynomial_schedule(LR, 1e-7, 2.0, DECAY)),
        ),
        "constant_with_warmup": (
            S.hf_schedule("constant_with_warmup", LR, WARMUP),
            optax.warmup_constant_schedule(0.0, LR, WARMUP),
        ),
        "inverse_sqrt": (S.hf_schedule("inverse_sqrt", LR, WARMUP), optax.warmup_constant_schedule(0.0, LR, WARMUP)),
        "cosine_with_min_lr(min_lr=0.1)": (
            S.hf_schedule("cosine_with_min_lr", LR, WARMUP, TRAINING, min_lr=0.1),
            warm_cosine(0.0, LR, WARMUP, TRAINING, end_value=0.1),
        ),
        "cosine_warmup_with_min_lr(min_lr=0.1)": (
            S.hf_schedule("cosine_warmup_with_min_lr", LR, WARMUP, TRAINING, min_lr=0.1),
            warm_cosine(0.0, LR, WARMUP, TRAINING, end_value=0.1),
        ),
        "warmup_stable_decay(num_decay_steps=200)": (
            S.hf_schedule("warmup_stable_decay", LR, WARMUP, TRAINING, num_decay_steps=200),
            optax.join_schedules(
                [optax.warmup_constant_schedule(0.0, LR, WARMUP), optax.cosine_decay_schedule(LR, 200)],
                [TRAINING - 200],
            ),
        ),
        "warmup_stable_decay(num_decay_steps=200, decay_type='1-sqrt')": (
            S.hf_schedule("warmup_stable_decay", LR, WARMUP, TRAINING, num_decay_steps=200, decay_type="1-sqrt"),
            optax.join_schedules(
                [optax.warmup_constant_schedule(0.0, LR, WARMUP), optax.linear_schedule(LR, 0.0, 200)], [TRAINING - 200]
            ),
        ),
        "timm(t_initial=1000, lr_min=0.01, warmup_t=100)": (
            S.timm_cosine(LR, TRAINING, lr_min=0.01, warmup_t=WARMUP),
            warm_cosine(0.0, LR, WARMUP, TRAINING, end_value=0.01),
        ),
        "timm(t_initial=900, lr_min=0.01, warmup_t=100, warmup_prefix=True)": (
            S.timm_cosine(LR, DECAY, lr_min=0.01, warmup_t=WARMUP, warmup_prefix=True),
            warm_cosine(0.0, LR, WARMUP, TRAINING, end_value=0.01),
        ),
        "timm(t_initial=250, cycle_decay=0.5, cycle_limit=4)": (
            S.timm_cosine(LR, 250, cycle_decay=0.5, cycle_limit=4),
            optax.sgdr_schedule(
                [
                    dict(init_value=LR * 0.5**i, peak_value=LR * 0.5**i, warmup_steps=0, decay_steps=250)
                    for i in range(4)
                ]
            ),
        ),
    }


def main() -> None:
    steps = jnp.arange(TRAINING + 1)
    for name, (ours, theirs) in cases().items():
        ours_values = np.asarray(ours(steps))
        gap = np.abs(ours_values - np.asarray(jax.vmap(theirs)(steps)))
        print(
            f"{name}: max |diff| {gap.max():.3g} at step {int(gap.argmax())}; "
            f"step {TRAINING + 5}: {float(ours(TRAINING + 5)):.3g} vs optax {float(theirs(TRAINING + 5)):.3g}"
        )


if __name__ == "__main__":
    with jax.enable_x64(True):
        main()
