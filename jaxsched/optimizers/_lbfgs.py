"""L-BFGS with optional strong-Wolfe line search, exactly ``torch.optim.LBFGS``.

One ``update`` is one torch ``optimizer.step(closure)``: up to ``max_iter`` inner iterations, each
re-evaluating the loss through ``value_fn``. Everything torch keeps between steps (last direction and
step length, the curvature pairs, ``H_diag``, previous gradient and loss, iteration and evaluation
counters) lives in :class:`LbfgsState`; the curvature pairs sit in fixed ``history_size x n`` ring
buffers so the whole step is one ``lax.while_loop`` and jit-compiles once.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jax.flatten_util import ravel_pytree

from jaxsched.core._base import (
    MAX_STEP,
    STEP_DTYPE,
    GradientTransformation,
    ScalarOrSchedule,
    check_has_params,
    first_complex_leaf,
    increment_step,
    record_components,
    state_dtype,
)
from jaxsched.core._hyperparams import injected
from jaxsched.core._validation import check_choice, check_int, check_nonnegative

# torch's constants: curvature pairs need y.s above this; strong-Wolfe sufficient decrease and
# curvature factors; the line search's bracket-width tolerance (torch's step() does not pass its
# tolerance_change on to _strong_wolfe, so the default 1e-9 always applies there).
_MIN_CURVATURE = 1e-10
_WOLFE_C1 = 1e-4
_WOLFE_C2 = 0.9
_LINE_SEARCH_TOLERANCE_CHANGE = 1e-9


class LbfgsState(NamedTuple):
    """What torch keeps in ``optimizer.state`` between steps, over the flattened parameters.

    Attributes:
      direction: last search direction ``d``.
      step_length: last step length ``t``.
      old_dirs: ring buffer of gradient differences ``y`` (``history_size x n``).
      old_stps: ring buffer of parameter steps ``s = d * t``.
      ro: ring buffer of ``1 / y.s``.
      history_count: number of valid pairs (at most ``history_size``).
      history_next: ring index the next pair is written to; the oldest pair is the one it overwrites.
      h_diag: initial inverse-Hessian scale ``y.s / y.y`` of the newest pair (torch's ``H_diag``).
      prev_flat_grad: gradient at the start of the last inner iteration.
      prev_loss: loss at the start of the last inner iteration.
      n_iter: inner iterations over all updates (torch's ``state["n_iter"]``).
      func_evals: loss evaluations over all updates, the initial one of each update included.
      loss: loss at the parameters given to the last update, what torch's ``step`` returns (0 before).
    """

    direction: jax.Array
    step_length: jax.Array
    old_dirs: jax.Array
    old_stps: jax.Array
    ro: jax.Array
    history_count: jax.Array
    history_next: jax.Array
    h_diag: jax.Array
    prev_flat_grad: jax.Array
    prev_loss: jax.Array
    n_iter: jax.Array
    func_evals: jax.Array
    loss: jax.Array


class _Iterate(NamedTuple):
    """Loop carry of one update: the optimizer memory plus the current point and this step's counters."""

    memory: LbfgsState
    x: jax.Array
    loss: jax.Array
    flat_grad: jax.Array
    n_iter: jax.Array  # inner iterations in this update
    evals: jax.Array  # evaluations in this update (torch's current_evals)
    done: jax.Array


def _py_max(a, b):
    """Python's ``max(a, b)``: ``a`` unless ``b > a`` (differs from ``jnp.maximum`` on ties and NaN)."""
    return jnp.where(b > a, b, a)


def _py_min(a, b):
    """Python's ``min(a, b)``: ``a`` unless ``b < a``."""
    return jnp.where(b < a, b, a)


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimizer of the cubic through two points with values and slopes, clipped to ``bounds``.

    torch's ``_cubic_interpolate``; the bisection of the bounds when the cubic has no minimizer.
    """
    if bounds is None:
        low, high = jnp.where(x1 <= x2, x1, x2), jnp.where(x1 <= x2, x2, x1)
    else:
        low, high = bounds
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    d2 = jnp.sqrt(jnp.where(d2_square >= 0, d2_square, 0))
    min_pos = jnp.where(
        x1 <= x2,
        x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)),
        x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2)),
    )
    return jnp.where(d2_square >= 0, _py_min(_py_max(min_pos, low), high), (low + high) / 2.0)


class _Bracket(NamedTuple):
    """Two line-search points (step, loss, gradient, slope along ``d``) and the zoom's bookkeeping."""

    t: jax.Array  # (2,)
    f: jax.Array  # (2,)
    g: jax.Array  # (2, n)
    gtd: jax.Array  # (2,)
    low: jax.Array  # index of the lower-loss point
    insufficient_progress: jax.Array
    done: jax.Array
    ls_iter: jax.Array
    evals: jax.Array


def _strong_wolfe(evaluate, x, t, d, f, g, gtd, max_ls):
    """torch's ``_strong_wolfe``: bracket a step satisfying the strong Wolfe conditions, then zoom.

    Returns ``(loss, flat_grad, t, evaluations)`` at the accepted step length ``t``.
    """
    d_norm = jnp.max(jnp.abs(d))

    def at(step):
        f_new, g_new = evaluate(x + step * d)
        return f_new, g_new, jnp.dot(g_new, d)

    def armijo_fails(f_new, step):
        return f_new > (f + _WOLFE_C1 * step * gtd)

    def curvature_holds(gtd_new):
        return jnp.abs(gtd_new) <= -_WOLFE_C2 * gtd

    # Bracketing: the carry is (previous point, current point, ls_iter, evals); the loop runs while
    # none of torch's three break conditions holds on the current point.
    def brackets(c):
        (_, f_prev, _, _), (t_new, f_new, _, gtd_new), ls_iter, _ = c
        sufficient = armijo_fails(f_new, t_new) | ((ls_iter > 1) & (f_new >= f_prev))
        return sufficient | curvature_holds(gtd_new) | (gtd_new >= 0)

    def extrapolate(c):
        (t_prev, f_prev, _, gtd_prev), (t_cur, f_cur, g_cur, gtd_cur), ls_iter, evals = c
        bounds = (t_cur + 0.01 * (t_cur - t_prev), t_cur * 10)
        t_next = _cubic_interpolate(t_prev, f_prev, gtd_prev, t_cur, f_cur, gtd_cur, bounds=bounds)
        return (t_cur, f_cur, g_cur, gtd_cur), (t_next, *at(t_next)), ls_iter + 1, evals + 1

    zero = jnp.zeros_like(t)
    first = (zero, f, g, gtd), (t, *at(t)), jnp.zeros((), STEP_DTYPE), jnp.ones((), STEP_DTYPE)
    carry = lax.while_loop(lambda c: (c[2] < max_ls) & ~brackets(c), extrapolate, first)
    (t_prev, f_prev, g_prev, gtd_prev), (t_new, f_new, g_new, gtd_new), ls_iter, evals = carry

    ran_out = ls_iter >= max_ls
    wolfe_point = ~ran_out & ~(armijo_fails(f_new, t_new) | ((ls_iter > 1) & (f_new >= f_prev)))
    wolfe_point &= curvature_holds(gtd_new)
    # Ran out: [0, t]; Wolfe point found: [t] (stored twice); otherwise [t_prev, t].
    t_left = jnp.where(ran_out, zero, jnp.where(wolfe_point, t_new, t_prev))
    f_left = jnp.where(ran_out, f, jnp.where(wolfe_point, f_new, f_prev))
    g_left = jnp.where(ran_out, g, jnp.where(wolfe_point, g_new, g_prev))
    gtd_left = jnp.where(ran_out, gtd, jnp.where(wolfe_point, gtd_new, gtd_prev))
    f_pair = jnp.stack([f_left, f_new])
    bracket = _Bracket(
        t=jnp.stack([t_left, t_new]),
        f=f_pair,
        g=jnp.stack([g_left, g_new]),
        gtd=jnp.stack([gtd_left, gtd_new]),
        low=jnp.where(f_pair[0] <= f_pair[1], 0, 1),
        insufficient_progress=jnp.array(False),
        done=wolfe_point,
        ls_iter=ls_iter,
        evals=evals,
    )

    def zooming(b):
        too_narrow = jnp.abs(b.t[1] - b.t[0]) * d_norm < _LINE_SEARCH_TOLERANCE_CHANGE
        return ~b.done & (b.ls_iter < max_ls) & ~too_narrow

    def zoom(b):
        high = 1 - b.low
        t_try = _cubic_interpolate(b.t[0], b.f[0], b.gtd[0], b.t[1], b.f[1], b.gtd[1])
        # A trial too close to an end of the bracket is moved 10% of its width inside, but only
        # if the previous trial was also too close or this one is at (or beyond) an end.
        t_max, t_min = _py_max(b.t[0], b.t[1]), _py_min(b.t[0], b.t[1])
        eps = 0.1 * (t_max - t_min)
        near_end = _py_min(t_max - t_try, t_try - t_min) < eps
        at_end = b.insufficient_progress | (t_try >= t_max) | (t_try <= t_min)
        moved_inside = jnp.where(jnp.abs(t_try - t_max) < jnp.abs(t_try - t_min), t_max - eps, t_min + eps)
        t_try = jnp.where(near_end & at_end, moved_inside, t_try)

        f_new, g_new, gtd_new = at(t_try)
        replaces_high = armijo_fails(f_new, t_try) | (f_new >= b.f[b.low])
        wolfe = ~replaces_high & curvature_holds(gtd_new)
        # "old high becomes new low": the low point moves to the high slot before being replaced.
        shift = ~replaces_high & ~wolfe & (gtd_new * (b.t[high] - b.t[b.low]) >= 0)
        target = jnp.where(replaces_high, high, b.low)

        def put(pair, new):
            pair = pair.at[high].set(jnp.where(shift, pair[b.low], pair[high]))
            return pair.at[target].set(new)

        f_pair = put(b.f, f_new)
        return _Bracket(
            t=put(b.t, t_try),
            f=f_pair,
            g=put(b.g, g_new),
            gtd=put(b.gtd, gtd_new),
            low=jnp.where(replaces_high, jnp.where(f_pair[0] <= f_pair[1], 0, 1), b.low),
            insufficient_progress=near_end & ~at_end,
            done=wolfe,
            ls_iter=b.ls_iter + 1,
            evals=b.evals + 1,
        )

    b = lax.while_loop(zooming, zoom, bracket)
    return b.f[b.low], b.g[b.low], b.t[b.low], b.evals


def _add_pair(memory: LbfgsState, y, s, ys, keep) -> LbfgsState:
    """Append the curvature pair ``(y, s)`` when ``keep``, overwriting the oldest one when full."""
    size = memory.old_dirs.shape[0]
    slot = memory.history_next
    return memory._replace(
        old_dirs=memory.old_dirs.at[slot].set(jnp.where(keep, y, memory.old_dirs[slot])),
        old_stps=memory.old_stps.at[slot].set(jnp.where(keep, s, memory.old_stps[slot])),
        ro=memory.ro.at[slot].set(jnp.where(keep, 1.0 / ys, memory.ro[slot])),
        history_next=jnp.where(keep, (slot + 1) % size, slot),
        history_count=jnp.where(keep, jnp.minimum(memory.history_count + 1, size), memory.history_count),
        h_diag=jnp.where(keep, ys / jnp.dot(y, y), memory.h_diag),
    )


def _two_loop_direction(memory: LbfgsState, flat_grad):
    """``d = -H g`` by the L-BFGS two-loop recursion over the stored pairs (newest first, then oldest first)."""
    size = memory.old_dirs.shape[0]
    count, oldest = memory.history_count, memory.history_next - memory.history_count

    def backward(k, carry):
        q, al = carry
        i = (oldest + count - 1 - k) % size
        a = jnp.dot(memory.old_stps[i], q) * memory.ro[i]
        return q + (-a) * memory.old_dirs[i], al.at[i].set(a)

    q, al = lax.fori_loop(0, count, backward, (-flat_grad, jnp.zeros_like(memory.ro)))

    def forward(k, r):
        i = (oldest + k) % size
        be_i = jnp.dot(memory.old_dirs[i], r) * memory.ro[i]
        return r + (al[i] - be_i) * memory.old_stps[i]

    return lax.fori_loop(0, count, forward, q * memory.h_diag)


def _scale_by_lbfgs(learning_rate, tolerance_grad, tolerance_change, *, max_iter, max_eval, history_size, line_search):
    """The raw L-BFGS step for given hyperparameter values (arrays); see :func:`lbfgs`."""

    def init(params):
        complex_leaf = first_complex_leaf(params)
        if complex_leaf is not None:
            # torch's LBFGS runs its real-valued line search and curvature tests on complex dot
            # products without conjugation; there is no exact, meaningful counterpart to give.
            raise ValueError(f"parameter {complex_leaf} is complex; lbfgs supports real parameters only")
        flat, _ = ravel_pytree(params)
        dtype = state_dtype(flat)
        vector, scalar, counter = jnp.zeros(flat.shape, dtype), jnp.zeros((), dtype), jnp.zeros((), STEP_DTYPE)
        buffer = jnp.zeros((history_size, flat.size), dtype)
        return LbfgsState(
            direction=vector, step_length=scalar, old_dirs=buffer, old_stps=buffer,
            ro=jnp.zeros((history_size,), dtype), history_count=counter, history_next=counter,
            h_diag=jnp.ones((), dtype), prev_flat_grad=vector, prev_loss=scalar,
            n_iter=counter, func_evals=counter, loss=scalar,
        )  # fmt: skip

    def update(updates, state, params=None, value_fn=None, value=None, **extra_args):
        del extra_args
        grads = updates
        check_has_params(params, "lbfgs")
        if value_fn is None:
            raise ValueError("lbfgs needs the loss: call update(grads, state, params, value_fn=loss_fn)")
        x0, unravel = ravel_pytree(params)
        dtype = state.direction.dtype
        x0 = x0.astype(dtype)
        lr, tol_grad, tol_change = (jnp.asarray(h, dtype) for h in (learning_rate, tolerance_grad, tolerance_change))
        value_and_grad = jax.value_and_grad(value_fn)

        def evaluate(x):
            loss, grad = value_and_grad(unravel(x))
            return jnp.asarray(loss, dtype), ravel_pytree(grad)[0].astype(dtype)

        # torch's initial closure call: the given gradient plus the given (or computed) loss.
        loss0 = jnp.asarray(value_fn(params) if value is None else value, dtype)
        grad0 = ravel_pytree(grads)[0].astype(dtype)
        memory = state._replace(func_evals=increment_step(state.func_evals), loss=loss0)

        def iteration(it: _Iterate) -> _Iterate:
            mem, g = it.memory, it.flat_grad
            n_iter = it.n_iter + 1
            mem = mem._replace(n_iter=increment_step(mem.n_iter))
            first_ever = mem.n_iter == 1
            y, s = g - mem.prev_flat_grad, mem.direction * mem.step_length
            ys = jnp.dot(y, s)
            mem = _add_pair(mem, y, s, ys, ~first_ever & (ys > _MIN_CURVATURE))
            d = _two_loop_direction(mem, g)
            t = jnp.where(first_ever, _py_min(jnp.ones((), dtype), 1.0 / jnp.sum(jnp.abs(g))) * lr, lr)
            mem = mem._replace(direction=d, step_length=t, prev_flat_grad=g, prev_loss=it.loss)
            it = it._replace(memory=mem, n_iter=n_iter)
            gtd = jnp.dot(g, d)
            return lax.cond(gtd > -tol_change, lambda: it._replace(done=jnp.array(True)), lambda: move(it, gtd))

        def move(it: _Iterate, gtd) -> _Iterate:
            mem = it.memory
            d, t = mem.direction, mem.step_length
            if line_search:
                loss, g, t, ls_evals = _strong_wolfe(
                    evaluate, it.x, t, d, it.loss, it.flat_grad, gtd, max_eval - it.evals
                )
                x = it.x + t * d
            else:
                # torch skips the evaluation after the last iteration's fixed step.
                x = it.x + t * d
                last = it.n_iter == max_iter
                loss, g = lax.cond(last, lambda: (it.loss, it.flat_grad), lambda: evaluate(x))
                ls_evals = jnp.where(last, 0, 1).astype(STEP_DTYPE)
            limit = jnp.iinfo(STEP_DTYPE).max  # saturate like increment_step
            func_evals = jnp.where(mem.func_evals > limit - ls_evals, limit, mem.func_evals + ls_evals)
            evals = it.evals + ls_evals
            converged = jnp.max(jnp.abs(g)) <= tol_grad
            stalled = (jnp.max(jnp.abs(d * t)) <= tol_change) | (jnp.abs(loss - mem.prev_loss) < tol_change)
            done = (it.n_iter == max_iter) | (evals >= max_eval) | converged | stalled
            mem = mem._replace(step_length=t, func_evals=func_evals)
            return _Iterate(mem, x, loss, g, it.n_iter, evals, done)

        one = jnp.ones((), STEP_DTYPE)
        start = _Iterate(memory, x0, loss0, grad0, jnp.zeros((), STEP_DTYPE), one, jnp.max(jnp.abs(grad0)) <= tol_grad)
        final = lax.while_loop(lambda it: ~it.done, iteration, start)
        return unravel(final.x - x0), final.memory

    return GradientTransformation(init, update)


def lbfgs(
    learning_rate: ScalarOrSchedule = 1.0,
    max_iter: int = 20,
    max_eval: int | None = None,
    tolerance_grad: ScalarOrSchedule = 1e-7,
    tolerance_change: ScalarOrSchedule = 1e-9,
    history_size: int = 100,
    line_search_fn: str | None = None,
) -> GradientTransformation:
    """L-BFGS, exactly ``torch.optim.LBFGS``: one ``update`` is one ``optimizer.step(closure)``.

    Over the flattened parameters ``x`` with gradient ``g``, each update runs up to ``max_iter``
    inner iterations (stopping at once if ``max|g| <= tolerance_grad``)::

        keep (y, s) = (g - g_prev, d * t) if y.s > 1e-10 (oldest dropped past history_size),
            H_diag = y.s / y.y
        d = -H g                                   two-loop recursion, H0 = H_diag * I
        t = min(1, 1 / sum|g|) * lr on the very first iteration, else lr
        stop if g.d > -tolerance_change
        x = x + t d   (t from a strong-Wolfe line search if line_search_fn == "strong_wolfe")
        stop if n_iter == max_iter, evaluations >= max_eval, max|g| <= tolerance_grad,
            max|d t| <= tolerance_change or |loss - prev_loss| < tolerance_change

    The line search is torch's (c1 = 1e-4, c2 = 0.9, cubic interpolation, bracketing then zoom, at
    most ``max_eval`` minus the evaluations already spent; its bracket-width tolerance is 1e-9
    whatever ``tolerance_change`` is, as in torch). The state (:class:`LbfgsState`, inside the
    hyperparameter state) carries the curvature pairs, counters and the loss torch's ``step`` returns.

    Evaluations: the incoming ``grads`` are the gradient at ``params`` (torch's first closure call);
    its loss is ``value`` if passed, else ``value_fn(params)``. Each further evaluation is
    ``jax.value_and_grad(value_fn)``; all are counted in ``func_evals`` as torch counts them.

    PyTorch: ``torch.optim.LBFGS(params, lr, max_iter, max_eval, tolerance_grad, tolerance_change,
    history_size, line_search_fn)`` with ``optimizer.step(closure)``. Use it alone (not after other
    transformations in a chain): like torch's closure, ``value_fn`` sees the raw loss.

    Args:
      learning_rate: step length factor >= 0 (float or schedule; torch's ``lr``).
      max_iter: maximal inner iterations per update, an int >= 1.
      max_eval: maximal loss evaluations per update, an int >= 1; default ``max_iter * 5 // 4``.
      tolerance_grad: stop when ``max|g| <= tolerance_grad``; >= 0 (float or schedule).
      tolerance_change: stop on smaller changes of loss or parameters; >= 0 (float or schedule).
      history_size: number of curvature pairs kept, an int >= 1 (memory: 2 * history_size * n).
      line_search_fn: ``None`` (fixed step ``t``) or ``"strong_wolfe"``.

    Example::

        tx = js.lbfgs(line_search_fn="strong_wolfe")
        state = tx.init(params)
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, state = tx.update(grads, state, params, value_fn=loss_fn, value=loss)
        params = js.apply_updates(params, updates)
    """
    check_nonnegative("learning_rate", learning_rate)
    max_iter = check_int("max_iter", max_iter, low=1, high=MAX_STEP)
    if max_eval is not None:
        max_eval = check_int("max_eval", max_eval, low=1, high=MAX_STEP)
    check_nonnegative("tolerance_grad", tolerance_grad)
    check_nonnegative("tolerance_change", tolerance_change)
    history_size = check_int("history_size", history_size, low=1)
    check_choice("line_search_fn", line_search_fn, (None, "strong_wolfe"))
    static = dict(
        max_iter=max_iter,
        max_eval=max_iter * 5 // 4 if max_eval is None else max_eval,
        history_size=history_size,
        line_search=line_search_fn == "strong_wolfe",
    )

    def build(learning_rate, tolerance_grad, tolerance_change):
        return _scale_by_lbfgs(learning_rate, tolerance_grad, tolerance_change, **static)

    tx = injected(
        build,
        dict(learning_rate=learning_rate, tolerance_grad=tolerance_grad, tolerance_change=tolerance_change),
    )
    flags = dict(
        max_iter=static["max_iter"],
        max_eval=static["max_eval"],
        history_size=history_size,
        line_search_fn=line_search_fn,
    )
    return record_components(tx, flags=flags)
