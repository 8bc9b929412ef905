"""The optimizers' and the input pipeline's fast paths give the same bits as
the plain code they replace:

* the dense Adagrad and FTRL kernels against the NumPy expressions they fuse;
* the `*_dup` sparse kernels (duplicate ids summed inside) against
  dedup_sum + the sparse kernel;
* whole optimizer steps with the fast paths against the generic paths
  (`K.DTYPES` emptied turns every fast path off);
* whole Adagrad and FTRL runs against plain NumPy with the coefficients
  computed afresh at every step: what the optimizers keep between steps
  (slots, constant coefficients) gives the same bits across a checkpoint
  restore, schedules, callables, hyperparameters set between steps, a
  successor in `shared_state` and copies;
* the compiled buffered shuffle, the batch gather and whole shuffle / repeat /
  skip / take / batch pipelines against a plain-Python version of the pipeline.
"""

import collections
import copy
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitf import optimizers, schedules
from minitf.data import Dataset, _indexer, _map_structure
from minitf.kernels import optimizers as K
from minitf.kernels.scatter import dedup_sum
from minitf.kernels.shuffle import buffered_shuffle
from minitf.sparse import IndexedSlices
from minitf.tensor import Variable

FLOATS = st.sampled_from([np.float32, np.float64])
SHAPES = st.lists(st.integers(1, 6), min_size=0, max_size=3).map(tuple)


def _values(rng, shape, dtype, zeros=0.2):
    """Normal values over a few orders of magnitude, some exactly zero."""
    x = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, shape)
    return np.where(rng.random(shape) < zeros, 0, x).astype(dtype)


def _bits_equal(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
    # assert_array_equal takes 0 == -0; the bits must match too.
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


# --- dense kernels against the NumPy expressions ---------------------------------------------
def np_adagrad(w, acc, grad, lr, eps):
    """Adagrad._apply_dense's NumPy expression."""
    acc += grad * grad
    return w - grad * lr / (np.sqrt(acc) + eps)


def np_ftrl(w, acc, lin, grad, lr, l1, l2, shrink):
    """Ftrl._apply_dense's NumPy expressions (learning_rate_power -0.5)."""
    two = w.dtype.type(2)
    new_acc = acc + grad * grad
    g = grad + two * shrink * w if shrink > 0 else grad
    lin += g - (np.sqrt(new_acc) - np.sqrt(acc)) / lr * w
    quad = np.sqrt(new_acc) / lr + two * l2
    x = l1 * np.sign(lin) - lin
    out = np.where(np.abs(lin) > l1, x / quad, 0).astype(w.dtype)
    acc[...] = new_acc
    return out


@given(SHAPES, FLOATS, st.integers(0, 2**32 - 1), st.floats(1e-4, 10), st.floats(0, 1e-3))
def test_dense_adagrad_kernel_equals_numpy(shape, dtype, seed, lr, eps):
    rng = np.random.default_rng(seed)
    w, grad = _values(rng, shape, dtype), _values(rng, shape, dtype)
    acc = np.array(np.abs(_values(rng, shape, dtype)))
    lr, eps = dtype(lr), dtype(eps)
    acc_want = acc.copy()
    out = np.empty(shape, dtype)
    with np.errstate(all="ignore"):  # 0 / 0 where acc, g and eps are 0
        want = np_adagrad(w, acc_want, grad, lr, eps)
        K.adagrad(w.reshape(-1), acc.reshape(-1), grad.reshape(-1), np.array([lr, eps], dtype),
                  out.reshape(-1))
    _bits_equal(out, want)
    _bits_equal(acc, acc_want)


@given(SHAPES, FLOATS, st.integers(0, 2**32 - 1), st.floats(1e-3, 5),
       st.sampled_from([0.0, 1e-3, 0.5]), st.sampled_from([0.0, 0.01, 2.0]),
       st.sampled_from([0.0, 0.1]))
def test_dense_ftrl_kernel_equals_numpy(shape, dtype, seed, lr, l1, l2, shrink):
    rng = np.random.default_rng(seed)
    w, grad, lin = (_values(rng, shape, dtype) for _ in range(3))
    acc = np.array(np.abs(_values(rng, shape, dtype, zeros=0)) + dtype(0.1))
    lr, l1, l2, shrink = dtype(lr), dtype(l1), dtype(l2), dtype(shrink)
    acc_want, lin_want = acc.copy(), lin.copy()
    want = np_ftrl(w, acc_want, lin_want, grad, lr, l1, l2, shrink)
    out = np.empty(shape, dtype)
    K.ftrl(w.reshape(-1), acc.reshape(-1), lin.reshape(-1), grad.reshape(-1),
           np.array([lr, l1, l2, shrink, -0.5], dtype), out.reshape(-1))
    _bits_equal(out, want)
    _bits_equal(acc, acc_want)
    _bits_equal(lin, lin_want)


def test_dense_ftrl_kernel_both_branches_and_zero_division():
    # |linear| <= l1 gives 0, otherwise the closed form; lr = 0 divides by zero
    # (inf and nan, as NumPy, not Python's ZeroDivisionError).
    f = np.float32
    w = np.array([0.5, -0.5, 0.0, 2.0], f)
    grad = np.array([0.001, -3.0, 0.0, 1.0], f)
    for lr in (f(0.1), f(0)):
        acc, lin = np.full(4, 0.1, f), np.array([0.0, -1.0, 0.2, 5.0], f)
        acc_want, lin_want = acc.copy(), lin.copy()
        with np.errstate(all="ignore"):
            want = np_ftrl(w, acc_want, lin_want, grad, lr, f(0.3), f(0.01), f(0))
        out = np.empty(4, f)
        K.ftrl(w, acc, lin, grad, np.array([lr, 0.3, 0.01, 0, -0.5], f), out)
        _bits_equal(out, want)
        _bits_equal(lin, lin_want)
        if lr:
            assert (out == 0).any() and (out != 0).any()
        else:
            assert not np.isfinite(out).all()


def test_dense_ftrl_kernel_sign_of_zero_as_numpy():
    # Only an l1 < 0 (restored from a checkpoint; the constructor refuses it) lets
    # linear = 0 pass |linear| > l1: np.sign(0) is 0, so the result is -0.0.
    f = np.float32
    z, acc, lin = np.zeros(2, f), np.full(2, 0.1, f), np.zeros(2, f)
    want = np_ftrl(z, acc.copy(), lin.copy(), z, f(0.1), f(-0.2), f(0), f(0))
    out = np.empty(2, f)
    K.ftrl(z, acc, lin, z, np.array([0.1, -0.2, 0, 0, -0.5], f), out)
    _bits_equal(out, want)
    assert (out == 0).all() and np.signbit(out).all()


def test_dense_adagrad_kernel_zero_over_zero_is_nan_as_numpy():
    z = np.zeros(3, np.float32)
    out = np.empty(3, np.float32)
    K.adagrad(z, z.copy(), z, np.array([0.1, 0], np.float32), out)
    with np.errstate(invalid="ignore"):
        _bits_equal(out, np_adagrad(z, z.copy(), z, np.float32(0.1), np.float32(0)))
    assert np.isnan(out).all()


# --- sparse kernels that sum duplicate ids ---------------------------------------------------
IDS = st.tuples(st.integers(1, 300), st.integers(1, 80), st.integers(1, 3))  # rows, ids, width


@given(IDS, FLOATS, st.integers(0, 2**32 - 1), st.sampled_from([-0.5, -0.7, 0.0]),
       st.sampled_from([0.0, 0.2]), st.sampled_from([0.0, 0.1]))
def test_sparse_dup_kernels_equal_dedup_then_kernel(sizes, dtype, seed, power, l1, shrink):
    n_rows, n, d = sizes
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, n_rows, n)
    grad = _values(rng, (n, d), dtype)
    w = _values(rng, (n_rows, d), dtype)
    acc = np.abs(_values(rng, (n_rows, d), dtype, zeros=0)) + dtype(0.1)
    lin = _values(rng, (n_rows, d), dtype)
    rows, summed = dedup_sum(ids, grad)
    h = [dtype(x) for x in (0.05, l1, 0.01, shrink, power)]

    w2, acc2, lin2 = w.copy(), acc.copy(), lin.copy()
    assert K.sparse_ftrl_dup(w2, acc2, lin2, ids, grad, np.array(h, dtype))
    K.sparse_ftrl(w, acc, lin, rows, summed, *h)
    for a, b in ((w2, w), (acc2, acc), (lin2, lin)):
        _bits_equal(a, b)

    eps = dtype(1e-7)
    assert K.sparse_adagrad_dup(w2, acc2, ids, grad, np.array([h[0], eps], dtype))
    K.sparse_adagrad(w, acc, rows, summed, h[0], eps)
    _bits_equal(w2, w)
    _bits_equal(acc2, acc)


@pytest.mark.parametrize("bad", [-1, 10])
def test_sparse_dup_kernels_refuse_ids_outside_the_table(bad):
    f = np.float32
    w, acc, lin = np.ones((10, 2), f), np.full((10, 2), 0.1, f), np.zeros((10, 2), f)
    ids, grad = np.array([3, bad, 3]), np.ones((3, 2), f)
    assert not K.sparse_ftrl_dup(w, acc, lin, ids, grad, np.array([0.1, 0, 0, 0, -0.5], f))
    assert not K.sparse_adagrad_dup(w, acc, ids, grad, np.array([0.1, 1e-7], f))
    assert (w == 1).all() and (acc == f(0.1)).all() and (lin == 0).all()  # nothing done


def test_dup_grad_says_when_the_kernels_apply():
    w = np.zeros((100, 3), np.float32)
    ids = np.array([1, 2, 1])
    assert K.dup_grad(w, ids, np.ones((3, 3), np.float32)).shape == (3, 3)
    assert K.dup_grad(w, ids, np.ones((3, 3), np.float16)) is None  # NumPy rounds float16
    assert K.dup_grad(w, ids[:0], np.ones((0, 3), np.float32)) is None
    assert K.dup_grad(w, ids, np.ones((2, 3), np.float32)) is None
    assert K.dup_grad(w, ids, np.ones((3, 2), np.float32)) is None
    big = np.zeros((4 * 3 + 4097, 3), np.float32)  # the lookup array would cost more
    assert K.dup_grad(big, ids, np.ones((3, 3), np.float32)) is None
    strided = np.ones((3, 6), np.float32)[:, ::2]
    assert K.dup_grad(w, ids, strided).flags.c_contiguous


# --- whole steps: fast paths against the generic ones ----------------------------------------
def _problem(seed, dtype):
    """Variables (dense ones of several ranks, tables of 1 and 3 columns, a big
    table the fused kernels leave to dedup_sum) and 4 steps of gradients."""
    rng = np.random.default_rng(seed)
    shapes = {"k": (4, 3), "b": (3,), "s": (), "t": (30, 3), "t1": (20,), "big": (5000, 2)}
    init = {k: _values(rng, s, dtype) for k, s in shapes.items()}
    steps = []
    for _ in range(4):
        g = {k: _values(rng, shapes[k], dtype) for k in ("k", "b", "s")}
        for k in ("t", "t1", "big"):
            ids = rng.integers(0, shapes[k][0], 6)
            g[k] = IndexedSlices(_values(rng, (6,) + shapes[k][1:], dtype), ids, shapes[k])
        steps.append(g)
    return init, steps


def _train(make, init, steps, fast):
    with pytest.MonkeyPatch.context() as mp:
        if not fast:
            mp.setattr(K, "DTYPES", ())
        opt = make()
        vs = {k: Variable(v.copy(), name=k) for k, v in init.items()}
        history = []
        for g in steps:
            opt.apply_gradients([(g[k], vs[k]) for k in vs])
            history.append({k: v.numpy() for k, v in vs.items()})
        return history, opt.state_dict()


MAKERS = [
    lambda: optimizers.Adagrad(0.1),
    lambda: optimizers.Adagrad(0.3, initial_accumulator_value=0.5, epsilon=1e-3, decay=0.1),
    lambda: optimizers.Ftrl(0.05),
    lambda: optimizers.Ftrl(0.2, l1_regularization_strength=0.01, l2_regularization_strength=0.1,
                            beta=0.5, l2_shrinkage_regularization_strength=0.05, decay=0.01),
    lambda: optimizers.Ftrl(0.1, learning_rate_power=-0.7, l1_regularization_strength=0.02),
    lambda: optimizers.FtrlOptimizer(0.1, l1_regularization_strength=0.001),
]


@pytest.mark.parametrize("make", MAKERS, ids=["adagrad", "adagrad_decay", "ftrl",
                                              "ftrl_all", "ftrl_power", "ftrl_v1"])
@given(seed=st.integers(0, 2**32 - 1), dtype=FLOATS)
def test_steps_equal_the_generic_path(make, seed, dtype):
    init, steps = _problem(seed, dtype)
    fast, fast_state = _train(make, init, steps, fast=True)
    slow, slow_state = _train(make, init, steps, fast=False)
    for a, b in zip(fast, slow):
        for k in a:
            _bits_equal(a[k], b[k])
    assert fast_state.keys() == slow_state.keys()
    for k in fast_state:
        _bits_equal(np.asarray(fast_state[k]), np.asarray(slow_state[k]))
    assert any((a["t"] != init["t"]).any() for a in fast)  # something was trained


def test_float16_and_mixed_dtypes_take_the_generic_path():
    opt = optimizers.Adagrad(0.1)
    h = Variable(np.ones(3, np.float16), name="h")
    f = Variable(np.ones((4, 2), np.float32), name="f")
    opt.apply_gradients([(np.full(3, 0.5, np.float16), h),
                         (IndexedSlices(np.ones((2, 2), np.float32), [1, 1], (4, 2)), f)])
    acc = np.float16(0.1) + np.float16(0.5) * np.float16(0.5)
    want = np.float16(1) - np.float16(0.5) * np.float16(0.1) / (np.sqrt(acc) + np.float16(1e-7))
    assert h.numpy().dtype == np.float16
    _bits_equal(h.numpy(), np.full(3, want, np.float16))
    assert (f.numpy()[[0, 2, 3]] == 1).all() and (f.numpy()[1] < 1).all()


def test_dense_step_writes_a_new_buffer():
    # As `var._value - ...` did: arrays read before the step keep their contents.
    for opt in (optimizers.Adagrad(0.1), optimizers.Ftrl(0.1)):
        v = Variable(np.ones((2, 3), np.float32), name="v")
        before = v._value
        opt.apply_gradients([(np.ones((2, 3), np.float32), v)])
        assert v._value is not before and (before == 1).all() and (v.numpy() != 1).all()


def test_read_only_variables_are_not_written():
    for opt in (optimizers.Adagrad(0.1), optimizers.Ftrl(0.1)):
        dense = np.ones((2, 3), np.float32)
        table = np.ones((5, 2), np.float32)
        dense.flags.writeable = table.flags.writeable = False
        vd, vt = Variable(dense, name="d"), Variable(table, name="t")
        vd._value, vt._value = dense, table  # as a restored, read-only array
        opt.apply_gradients([(np.ones((2, 3), np.float32), vd),
                             (IndexedSlices(np.ones((2, 2), np.float32), [4, 4], (5, 2)), vt)])
        assert (dense == 1).all() and (table == 1).all()
        assert (vd.numpy() != 1).all() and (vt.numpy()[4] != 1).all()
        assert (vt.numpy()[:4] == 1).all()


def test_tables_are_updated_in_place_unless_strided():
    # A C-contiguous table is written where it is (its 2-D buffer is passed as it
    # is); a strided one is replaced by a contiguous copy, the array it viewed kept.
    for opt in (optimizers.Adagrad(0.1), optimizers.Ftrl(0.1)):
        base = np.ones((5, 4), np.float32)
        vc, vs = Variable(np.ones((5, 2), np.float32), name="c"), Variable(base[:, ::2], name="s")
        vs._value = base[:, ::2]
        before = vc._value
        g = IndexedSlices(np.ones((2, 2), np.float32), [3, 3], (5, 2))
        opt.apply_gradients([(g, vc), (g, vs)])
        assert vc._value is before and (before[3] != 1).all()
        assert vs._value.flags.c_contiguous and (base == 1).all()
        _bits_equal(vs.numpy(), vc.numpy())


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_the_step_counter_is_replaced_as_assign_did(dtype):
    # The step's `iterations += 1` writes a new 0-d array of the counter's dtype (an
    # array read before keeps its value); a Variable subclass gets its own assign.
    v = Variable(np.ones(2, np.float32), name="v")
    opt = optimizers.Ftrl(0.1)
    opt.iterations = step = Variable(np.array(7, dtype), name="global_step", trainable=False)
    before = step._value
    opt.apply_gradients([(np.ones(2, np.float32), v)])
    assert step._value is not before and before == 7
    assert step._value.dtype == dtype and step._value.shape == () and step._value == 8
    own = optimizers.Adagrad(0.1)
    own.apply_gradients([(np.ones(2, np.float32), v)])
    assert own.iterations._value.dtype == np.int64 and own.iterations_value() == 1

    class Counted(Variable):
        __slots__ = ("assigned",)

        def assign(self, value):
            self.assigned = value
            return super().assign(value)

    opt.iterations = counted = Counted(np.array(3, dtype), name="global_step")
    opt.apply_gradients([(np.ones(2, np.float32), v)])
    assert counted.assigned == 4 and counted._value == 4 and counted._value.dtype == dtype


def test_errors_are_unchanged():
    opt = optimizers.Ftrl(0.1)
    v = Variable(np.ones((5, 2), np.float32), name="v")
    with pytest.raises(ValueError, match="dedup_sum: values have"):
        opt.apply_gradients([(IndexedSlices(np.ones((3, 2), np.float32), [1, 2], (5, 2)), v)])
    with pytest.raises(ValueError, match="gradient for v:0 has shape"):
        opt.apply_gradients([(np.ones((2, 5), np.float32), v)])
    with pytest.raises(ZeroDivisionError), np.errstate(all="ignore"):
        # lr = 0: the sparse kernels keep Python's error model, as before
        optimizers.Ftrl(0.0).apply_gradients(
            [(IndexedSlices(np.ones((1, 2), np.float32), [1], (5, 2)), v)])


# --- whole runs against plain NumPy: what is kept between steps ------------------------------
def np_coefficients(kind, cfg, it, dt):
    """Adagrad's or Ftrl's coefficients from scratch at iterations `it`."""
    lr = cfg["learning_rate"]
    if isinstance(lr, schedules.LearningRateSchedule):
        lr = lr(it)
    elif callable(lr):
        lr = lr()
    lr, decay = dt(np.asarray(lr)), dt(cfg.get("decay", 0.0))
    if decay > 0:
        lr = lr / (dt(1) + decay * dt(it))
    if kind == "adagrad":
        return {"lr": lr, "eps": dt(cfg.get("epsilon", 1e-7))}
    return {"lr": lr, "l1": dt(cfg.get("l1_regularization_strength", 0.0)),
            "l2": dt(cfg.get("l2_regularization_strength", 0.0))
            + dt(cfg.get("beta", 0.0)) / (dt(2) * lr),
            "shrink": dt(cfg.get("l2_shrinkage_regularization_strength", 0.0))}


def np_sparse_step(kind, w, slots, ids, values, c):
    """dedup_sum, then the sparse kernels' row update in NumPy, in their order of
    operations (FTRL with learning_rate_power -0.5)."""
    rows, g = dedup_sum(ids, values.reshape(len(ids), -1))
    w2, acc = w.reshape(len(w), -1), slots[0].reshape(len(w), -1)
    a = acc[rows]
    na = a + g * g
    if kind == "adagrad":
        w2[rows] = w2[rows] - g * c["lr"] / (np.sqrt(na) + c["eps"])
    else:
        lin, x, two = slots[1].reshape(len(w), -1), w2[rows], w.dtype.type(2)
        gs = g + two * c["shrink"] * x if c["shrink"] > 0 else g
        new = lin[rows] + gs - (np.sqrt(na) - np.sqrt(a)) / c["lr"] * x
        quad = np.sqrt(na) / c["lr"] + two * c["l2"]
        lin[rows] = new
        w2[rows] = np.where(np.abs(new) > c["l1"], (np.sign(new) * c["l1"] - new) / quad, 0)
    acc[rows] = na


def np_step(kind, cfg, it, values, slots, grads):
    """One step of Adagrad or Ftrl in plain NumPy on {name: array} `values` and
    {name: [slot arrays]} (both updated), skipping None gradients."""
    for k, g in grads.items():
        if g is None:
            continue
        w = values[k]
        c = np_coefficients(kind, cfg, it, w.dtype.type)
        if k not in slots:
            slots[k] = [np.full(w.shape, cfg.get("initial_accumulator_value", 0.1), w.dtype)]
            slots[k] += [np.zeros(w.shape, w.dtype)] if kind == "ftrl" else []
        if isinstance(g, IndexedSlices):
            np_sparse_step(kind, w, slots[k], g.indices, g.values, c)
        elif kind == "adagrad":
            values[k] = np.asarray(np_adagrad(w, slots[k][0], g, c["lr"], c["eps"]))
        else:
            values[k] = np_ftrl(w, *slots[k], g, c["lr"], c["l1"], c["l2"], c["shrink"])


def _run_problem(seed, dtype, n_steps=6):
    """_problem's variables and n_steps of gradients: a duplicate id in every
    IndexedSlices, no gradient for 'b' at step 1."""
    init, _ = _problem(seed, dtype)
    rng = np.random.default_rng(seed)
    steps = []
    for s in range(n_steps):
        g = {k: _values(rng, init[k].shape, dtype) for k in ("k", "b", "s")}
        for k in ("t", "t1", "big"):
            ids = rng.integers(0, len(init[k]), 6)
            ids[1] = ids[0]
            g[k] = IndexedSlices(_values(rng, (6,) + init[k].shape[1:], dtype), ids,
                                 init[k].shape)
        g["b"] = None if s == 1 else g["b"]
        steps.append(g)
    return init, steps


CONFIGS = {
    "adagrad": ("adagrad", {"learning_rate": 0.1}),
    "adagrad_decay": ("adagrad", {"learning_rate": 0.3, "initial_accumulator_value": 0.5,
                                  "epsilon": 1e-3, "decay": 0.1}),
    "adagrad_schedule": ("adagrad", {"learning_rate": schedules.ExponentialDecay(0.2, 2, 0.5)}),
    "ftrl": ("ftrl", {"learning_rate": 0.05}),
    "ftrl_all": ("ftrl", {"learning_rate": 0.2, "l1_regularization_strength": 0.01,
                          "l2_regularization_strength": 0.1, "beta": 0.5,
                          "l2_shrinkage_regularization_strength": 0.05, "decay": 0.01}),
    "ftrl_schedule": ("ftrl", {"learning_rate": schedules.PiecewiseConstantDecay(
        [2, 4], [0.3, 0.1, 0.02]), "l1_regularization_strength": 0.02}),
}


def _make(kind, cfg):
    return (optimizers.Adagrad if kind == "adagrad" else optimizers.Ftrl)(**cfg)


@pytest.mark.parametrize("config", list(CONFIGS))
@given(seed=st.integers(0, 2**32 - 1), dtype=FLOATS, same_object=st.booleans())
def test_runs_with_a_restore_equal_plain_numpy(config, seed, dtype, same_object):
    # Steps 0-1, a checkpoint, two more steps (then forgotten), the checkpoint
    # restored (into the same optimizer or a new one), steps 2-5: every variable
    # after every step, the slots and `iter` at the end, as plain NumPy's with
    # coefficients computed afresh at each step. The checkpoint holds another
    # learning rate, which the restored optimizer uses (TF restores its
    # hyperparameter variables, float32); a schedule is no variable and stays.
    kind, cfg = CONFIGS[config]
    init, steps = _run_problem(seed, dtype)
    name = "Adagrad" if kind == "adagrad" else "Ftrl"
    fresh = _make(kind, cfg)  # what a restore sets: the hyperparameter variables
    restored = {k: float(np.float32(fresh._hyper[k])) for k in fresh.hyper_variable_names()}
    if "learning_rate" in restored:
        restored["learning_rate"] = float(np.float32(0.07))
    values, slots, want = {k: v.copy() for k, v in init.items()}, {}, []
    for it, g in enumerate(steps):
        np_step(kind, cfg if it < 2 else {**cfg, **restored}, it, values, slots, g)
        want.append({k: v.copy() for k, v in values.items()})

    opt = _make(kind, cfg)
    vs = {k: Variable(v.copy(), name=k) for k, v in init.items()}

    def step(it):
        opt.apply_gradients([(steps[it][k], vs[k]) for k in vs])
        for k in vs:
            _bits_equal(vs[k].numpy(), want[it][k])

    step(0)
    step(1)
    ckpt, saved = opt.state_dict(), {k: v.numpy() for k, v in vs.items()}
    if f"training/{name}/learning_rate" in ckpt:
        ckpt[f"training/{name}/learning_rate"] = np.float32(0.07)
    for junk in steps[4:]:  # moves slots and iterations away from the checkpoint's
        opt.apply_gradients([(junk[k], vs[k]) for k in vs])
    if not same_object:
        opt = _make(kind, cfg)
    opt.load_state(ckpt)
    for k in vs:
        vs[k].assign(saved[k])
    for it in range(2, len(steps)):
        step(it)
    state = opt.state_dict()
    assert state[f"training/{name}/iter"] == len(steps)
    for k, arrays in slots.items():
        for s, a in zip(opt.get_slot_names(), arrays):
            _bits_equal(state[f"training/{name}/{k}/{s}"], a)


@pytest.mark.parametrize("kind,changes", [
    ("adagrad", [{}, {"learning_rate": 0.5}, {"epsilon": 0.01}, {"lr": 0.2}, {}]),
    ("ftrl", [{}, {"learning_rate": 0.5}, {"l2_shrinkage_regularization_strength": 0.1},
              {"learning_rate": lambda: 0.3}, {}]),
])
def test_hyperparameters_set_between_steps_take_effect(kind, changes):
    init, steps = _run_problem(3, np.float32, len(changes))
    cfg = {"learning_rate": 0.1}
    opt = _make(kind, cfg)
    vs = {k: Variable(v.copy(), name=k) for k, v in init.items()}
    values, slots = {k: v.copy() for k, v in init.items()}, {}
    for it, (change, g) in enumerate(zip(changes, steps)):
        for attr, value in change.items():
            setattr(opt, attr, value)
            cfg["learning_rate" if attr == "lr" else attr] = value
        opt.apply_gradients([(g[k], vs[k]) for k in vs])
        np_step(kind, cfg, it, values, slots, g)
        for k in vs:
            _bits_equal(vs[k].numpy(), values[k])


@pytest.mark.parametrize("kind", ["adagrad", "ftrl"])
def test_callables_and_schedules_are_called_at_every_step(kind):
    box, seen = [0.1], []

    class Schedule(schedules.LearningRateSchedule):
        def __call__(self, step):
            seen.append(step)
            return 0.05 * (step + 1)

    init, steps = _run_problem(4, np.float32, 4)
    for lr, at in ((lambda: box[0], lambda it: box[0]),
                   (Schedule(), lambda it: 0.05 * (it + 1))):
        opt = _make(kind, {"learning_rate": lr})
        vs = {k: Variable(v.copy(), name=k) for k, v in init.items()}
        values, slots = {k: v.copy() for k, v in init.items()}, {}
        for it, g in enumerate(steps):
            box[0] = 0.1 * (it + 1)
            opt.apply_gradients([(g[k], vs[k]) for k in vs])
            np_step(kind, {"learning_rate": at(it)}, it, values, slots, g)
            for k in vs:
                _bits_equal(vs[k].numpy(), values[k])
    assert seen == [0, 1, 2, 3]


def test_constant_coefficients_are_computed_once(monkeypatch):
    calls = []
    for cls in (optimizers.Adagrad, optimizers.Ftrl):
        orig = cls._coefficients
        monkeypatch.setattr(cls, "_coefficients",
                            lambda self, dt, orig=orig: calls.append(dt) or orig(self, dt))
    v = Variable(np.ones(2, np.float32), name="v")
    v64 = Variable(np.ones(3), name="v64")
    for opt, n in ((optimizers.Adagrad(0.1), 2), (optimizers.Ftrl(0.1, decay=0.1), 10),
                   (optimizers.Adagrad(schedules.ExponentialDecay(0.1, 2, 0.5)), 10)):
        calls.clear()
        for _ in range(5):
            opt.apply_gradients([(np.ones(2, np.float32), v), (np.ones(3), v64)])
        assert len(calls) == n  # once per dtype, or once per dtype and step
    opt = optimizers.Adagrad(0.1)
    opt.apply_gradients([(np.ones(2, np.float32), v)])
    calls.clear()
    opt.epsilon = 1e-3
    opt.apply_gradients([(np.ones(2, np.float32), v)])
    opt.apply_gradients([(np.ones(2, np.float32), v)])
    assert len(calls) == 1


def test_a_successor_in_shared_state_continues_the_slots():
    init, steps = _run_problem(5, np.float32, 4)
    values, slots = {k: v.copy() for k, v in init.items()}, {}
    vs = {k: Variable(v.copy(), name=k) for k, v in init.items()}
    with optimizers.optimizer.shared_state():
        for it, g in enumerate(steps):  # a new object every step, as a model_fn makes
            optimizers.Ftrl(0.1).apply_gradients([(g[k], vs[k]) for k in vs])
            np_step("ftrl", {"learning_rate": 0.1}, it, values, slots, g)
            for k in vs:
                _bits_equal(vs[k].numpy(), values[k])


@pytest.mark.parametrize("clone", [copy.copy, copy.deepcopy,
                                   lambda o: pickle.loads(pickle.dumps(o))])
def test_a_copy_updates_its_own_slots(clone):
    init, steps = _run_problem(7, np.float64, 3)
    values, slots = {k: v.copy() for k, v in init.items()}, {}
    vs = {k: Variable(v.copy(), name=k) for k, v in init.items()}
    opt = optimizers.Ftrl(0.1)
    for it, g in enumerate(steps):
        opt.apply_gradients([(g[k], vs[k]) for k in vs])
        np_step("ftrl", {"learning_rate": 0.1}, it, values, slots, g)
        opt = clone(opt)
    state = opt.state_dict()
    for k, (acc, lin) in slots.items():
        _bits_equal(state[f"training/Ftrl/{k}/accumulator"], acc)
        _bits_equal(state[f"training/Ftrl/{k}/linear"], lin)


# --- the input pipeline ----------------------------------------------------------------------
def py_shuffle(stream, buffer_size, rng):
    """The buffered shuffle as plain Python (the code the compiled loop replaced)."""
    if buffer_size >= len(stream):
        return stream[rng.permutation(len(stream))]
    out = np.empty(len(stream), stream.dtype)
    buf = list(stream[:buffer_size])
    picks = rng.random(len(stream))
    nxt = buffer_size
    for t in range(len(stream)):
        j = int(picks[t] * len(buf))
        out[t] = buf[j]
        if nxt < len(stream):
            buf[j] = stream[nxt]
            nxt += 1
        else:
            buf[j] = buf[-1]
            buf.pop()
    return out


@given(st.integers(2, 3000), st.integers(1, 3000), st.integers(0, 2**32 - 1))
def test_compiled_shuffle_equals_python(n, buffer, seed):
    buffer = min(buffer, n - 1)
    stream = np.random.default_rng(seed).permutation(n).astype(np.int64)
    want = py_shuffle(stream, buffer, np.random.default_rng(seed))
    got = np.empty_like(stream)
    buffered_shuffle(stream, stream[:buffer].copy(), np.random.default_rng(seed).random(n), got)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == want.dtype


Point = collections.namedtuple("Point", "x y")


def _data(n):
    a = np.arange(n, dtype=np.int64)
    return ({"a": a, "s": np.array([f"s{i}" for i in a], dtype=str), "f": a * 0.5},
            [a * 2, {"deep": {"z": -a}}, Point(a, a % 3)])


@pytest.mark.parametrize("idx", [3, np.array([4, 0, 4, 2])])
def test_indexer_equals_map_structure(idx):
    s = _data(6)
    got, want = _indexer(s)(idx), _map_structure(lambda a: a[idx], s)

    def same(g, w):
        assert type(g) is type(w)
        if isinstance(w, dict):
            assert list(g) == list(w)
            for k in w:
                same(g[k], w[k])
        elif isinstance(w, (tuple, list)):
            assert len(g) == len(w)
            for x, y in zip(g, w):
                same(x, y)
        else:
            np.testing.assert_array_equal(g, w)
    same(got, want)
    assert type(got[1][2]) is tuple  # a namedtuple comes out a tuple, as before


@given(st.integers(0, 60), st.integers(1, 70), st.integers(0, 2**31), st.integers(1, 4),
       st.integers(0, 30), st.integers(-1, 100), st.integers(1, 17), st.booleans())
def test_shuffled_batches_equal_the_plain_pipeline(n, buffer, seed, epochs, skip, take, batch,
                                                   drop):
    data = _data(n)
    shuffled = Dataset.from_tensor_slices(data).shuffle(buffer, seed=seed)
    rng = np.random.default_rng(shuffled._seed)  # the stream the dataset draws from
    ds = shuffled.repeat(epochs).skip(skip).take(take).batch(batch, drop_remainder=drop)
    got = list(ds)

    order = np.concatenate([py_shuffle(np.arange(n, dtype=np.int64), buffer, rng)
                            for _ in range(epochs)])[skip:]
    order = order[:take] if take >= 0 else order
    cuts = [order[i:i + batch] for i in range(0, len(order), batch)]
    if drop and cuts and len(cuts[-1]) < batch:
        cuts.pop()
    assert len(got) == len(cuts)
    for b, idx in zip(got, cuts):
        features, (doubled, nested, point) = b
        assert type(b) is tuple and list(features) == ["a", "s", "f"]
        np.testing.assert_array_equal(features["a"], idx)
        np.testing.assert_array_equal(features["s"], data[0]["s"][idx])
        np.testing.assert_array_equal(features["f"], idx * 0.5)
        np.testing.assert_array_equal(doubled, idx * 2)
        np.testing.assert_array_equal(nested["deep"]["z"], -idx)
        np.testing.assert_array_equal(point[1], idx % 3)


def test_unbatched_shuffle_yields_the_plain_order():
    data = {"a": np.arange(50) * 3}
    shuffled = Dataset.from_tensor_slices(data).shuffle(7, seed=5)
    rng = np.random.default_rng(shuffled._seed)
    got = [int(e["a"]) for e in shuffled.repeat(2)]
    want = [3 * int(i) for _ in range(2) for i in py_shuffle(np.arange(50), 7, rng)]
    assert got == want
