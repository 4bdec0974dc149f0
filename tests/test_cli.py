"""Pictures, the command line, and the safe spec parser (fuzzed with malicious and random input)."""

import subprocess
import sys
import time

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxsched as js
from jaxsched._spec import SpecError, allowed_schedules, parse_schedule

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_cli_plot_writes_a_png(tmp_path):
    out = tmp_path / "lr.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jaxsched",
            "plot",
            "warmup(cosine_decay(0.1, 1000), 100)",
            "--steps",
            "1200",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5000
    image = pytest.importorskip("matplotlib.image").imread(out)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert image[..., :3].std() > 0.01  # something was drawn


def test_cli_table_prints_the_schedule_values():
    from jaxsched.__main__ import main

    spec = "step_decay(0.1, 5, gamma=0.5)"
    done = subprocess.run(
        [sys.executable, "-m", "jaxsched", "table", spec, "--steps", "20"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    rows = done.stdout.strip().splitlines()
    assert len(rows) == 21 and spec in rows[0]
    values = [float(row.split()[1]) for row in rows[1:]]
    np.testing.assert_allclose(values, [0.1 * 0.5 ** (s // 5) for s in range(20)], rtol=1e-5)
    assert main(["table", "open('x')", "--steps", "3"]) == 2


def test_plot_function_returns_a_figure(tmp_path):
    sched = js.schedules.one_cycle(0.1, 100)
    figure = js.plot({"one cycle": sched, "constant": js.schedules.constant(0.05)}, 100, path=tmp_path / "f.png")
    assert len(figure.axes[0].lines) == 2
    np.testing.assert_allclose(figure.axes[0].lines[0].get_ydata(), np.asarray(sched(jnp.arange(100))), rtol=1e-6)
    assert (tmp_path / "f.png").read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="steps"):
        js.plot(sched, 0)


def test_parse_builds_the_same_schedule_as_the_call():
    parsed = parse_schedule("join([linear(0.0, 0.1, 10), cosine_decay(0.1, 90, alpha=0.1)], [10])")
    built = js.schedules.join([js.schedules.linear(0.0, 0.1, 10), js.schedules.cosine_decay(0.1, 90, alpha=0.1)], [10])
    steps = jnp.arange(120)
    np.testing.assert_allclose(parsed(steps), built(steps), rtol=1e-7)
    assert float(parse_schedule("multistep_decay(1.0, (3, 5), gamma=-(-0.5))")(6)) == 0.25


MALICIOUS = [
    "__import__('os').system('touch {sentinel}')",
    "open('{sentinel}', 'w')",
    "cosine_decay.__globals__['os'].system('touch {sentinel}')",
    "().__class__.__bases__[0].__subclasses__()",
    "constant(__import__('os').getpid())",
    "eval('1')",
    "exec('x=1')",
    "constant(0.1).__code__",
    "[x for x in ()]",
    "lambda: 0",
    "constant(*[1])",
    "constant(**{'value': 1})",
    "constant(1 if True else 0)",
    "constant(f'{1}')",
    "constant(0.1)[0]",
    "constant(2 ** 100000)",
    "constant(9" + "9" * 400 + ")",
    "constant(1e999)",
    "constant(float('nan'))",
    "lambda_lr(0.1, print)",
    "step_decay(0.1, -5)",
    "cosine_decay(0.1, 1000, alpha='x')",
    "constant(" * 200 + "1" + ")" * 200,
    "[" * 100000 + "]" * 100000,
    "(" * 5000,
    "constant(0.1); import os",
    "x" * 5000,
    "",
    "\x00",
]


@pytest.mark.parametrize("template", MALICIOUS)
def test_malicious_specs_are_rejected_without_running_anything(template, tmp_path):
    sentinel = tmp_path / "pwned"
    start = time.perf_counter()
    with pytest.raises(SpecError):
        parse_schedule(template.format(sentinel=sentinel) if "{sentinel}" in template else template)
    assert not sentinel.exists()
    assert time.perf_counter() - start < 5


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_random_text_parses_or_is_rejected(text):
    try:
        schedule = parse_schedule(text)
    except SpecError:
        return
    assert callable(schedule)


def _literal():
    numbers = st.one_of(st.integers(-(10**20), 10**20), st.floats(allow_nan=True, allow_infinity=True))
    return st.one_of(
        numbers.map(repr), st.sampled_from(["None", "True", "'cos'", "'triangular'", "[]", "(1, 2)", "[10, 20]"])
    )


def _calls(depth):
    names = sorted(allowed_schedules())
    argument = _literal() if depth == 0 else st.one_of(_literal(), _calls(depth - 1))
    return st.tuples(st.sampled_from(names), st.lists(argument, max_size=4)).map(lambda t: f"{t[0]}({', '.join(t[1])})")


@settings(max_examples=300, deadline=None)
@given(_calls(2))
def test_structured_random_calls_build_or_raise_spec_error(spec):
    try:
        schedule = parse_schedule(spec)
    except SpecError:
        return
    assert callable(schedule)
