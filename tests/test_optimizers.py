"""Optimizers: 20 steps equal TF 2.15's (dense and IndexedSlices gradients with
duplicate ids), schedules equal TF's, names, state, errors."""

import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitf as tf
from minitf import optimizers, schedules

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "reference"))
from opt_cases import CASES  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(__file__), "reference", "fixtures", "optimizers.npz")


def our_class(path):
    kind, name = path.split(".")
    return getattr(optimizers if kind == "legacy" else tf.compat.v1.train, name)


def replay(path, kwargs, init, grads, indices=None):
    var = tf.Variable(init.copy(), name="w")
    opt = our_class(path)(**kwargs)
    out = []
    for k, g in enumerate(grads):
        if indices is not None:
            g = tf.IndexedSlices(g, indices[k], init.shape)
        opt.apply_gradients([(g, var)])
        out.append(var.numpy())
    return np.stack(out), opt, var


@pytest.fixture(scope="module")
def fixture():
    return np.load(FIXTURE, allow_pickle=False)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_twenty_steps_equal_tf(fixture, case, kind):
    name, path, kwargs = case
    key = f"{name}/{kind}/"
    got, _, _ = replay(path, kwargs, fixture[key + "init"], fixture[key + "grad_values"],
                       fixture[key + "grad_indices"] if kind == "sparse" else None)
    want = fixture[key + "trajectory"]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["exp", "exp_stair", "inv", "inv_stair", "piecewise", "poly",
                                  "poly_cycle", "cosine", "cosine_warm"])
def test_schedules_equal_tf(fixture, name):
    s = schedules
    made = {
        "exp": s.ExponentialDecay(0.1, 1000, 0.96),
        "exp_stair": s.ExponentialDecay(0.5, 333, 0.5, staircase=True),
        "inv": s.InverseTimeDecay(0.1, 100, 0.5),
        "inv_stair": s.InverseTimeDecay(1.0, 250, 2.0, staircase=True),
        "piecewise": s.PiecewiseConstantDecay([10, 2000, 5000], [1.0, 0.5, 0.1, 0.01]),
        "poly": s.PolynomialDecay(0.1, 5000, 0.001, power=2.0),
        "poly_cycle": s.PolynomialDecay(0.1, 700, 0.01, power=0.5, cycle=True),
        "cosine": s.CosineDecay(0.2, 8000, alpha=0.1),
        "cosine_warm": s.CosineDecay(0.0, 5000, warmup_target=0.3, warmup_steps=500),
    }[name]
    got = np.array([made(int(t)) for t in fixture["schedule/steps"]], np.float32)
    np.testing.assert_allclose(got, fixture[f"schedule/{name}"], rtol=1e-6, atol=1e-8)


def test_v1_exponential_decay_follows_the_global_step():
    step = tf.Variable(np.int64(0), name="global_step", trainable=False)
    with tf.train.global_step_scope(step):
        lr = tf.compat.v1.train.exponential_decay(0.1, tf.compat.v1.train.get_global_step(),
                                                  decay_steps=10, decay_rate=0.5)
        assert float(lr()) == pytest.approx(0.1)
        step.assign(np.int64(20))
        assert float(lr()) == pytest.approx(0.025)  # 0.1 * 0.5 ** (20 / 10)
        opt = optimizers.Adam(learning_rate=lr)
        assert float(opt._decayed_lr()) == pytest.approx(0.025)
    assert tf.train.get_global_step() is None
    with pytest.raises(ValueError, match="global_step is required"):
        tf.compat.v1.train.exponential_decay(0.1, None, 10, 0.5)


def test_schedule_hyper_uses_iterations():
    opt = optimizers.SGD(learning_rate=schedules.PiecewiseConstantDecay([1], [1.0, 0.5]))
    v = tf.Variable(np.zeros(2, np.float32))
    for _ in range(3):  # lr 1.0 at iterations 0 and 1, then 0.5
        opt.apply_gradients([(np.ones(2, np.float32), v)])
    np.testing.assert_allclose(v.numpy(), [-2.5, -2.5])
    assert opt.iterations_value() == 3


def test_slot_and_state_names_are_checkpoint_names():
    w = tf.Variable(np.ones((3, 1), np.float32), name="linear/linear_model/age/weights")
    opt = optimizers.Ftrl(learning_rate=0.1)
    opt.apply_gradients([(np.ones((3, 1), np.float32), w)])
    state = opt.state_dict()
    assert sorted(state) == sorted([
        "training/Ftrl/beta", "training/Ftrl/decay", "training/Ftrl/iter",
        "training/Ftrl/l1_regularization_strength", "training/Ftrl/l2_regularization_strength",
        "training/Ftrl/learning_rate", "training/Ftrl/learning_rate_power",
        "training/Ftrl/linear/linear_model/age/weights/accumulator",
        "training/Ftrl/linear/linear_model/age/weights/linear"])
    assert state["training/Ftrl/iter"] == 1
    # The estimator makes the global step an optimizer's iterations: then no 'iter'.
    ada = optimizers.Adagrad(0.1)
    ada.iterations = tf.Variable(np.int64(5), name="global_step")
    ada.apply_gradients([(np.ones((3, 1), np.float32), w)])
    assert "training/Adagrad/iter" not in ada.state_dict()
    assert int(ada.iterations.numpy()) == 6
    v1 = tf.compat.v1.train.ProximalAdagradOptimizer(0.1)
    v1.apply_gradients([(np.ones((3, 1), np.float32), w)])
    assert list(v1.state_dict()) == ["linear/linear_model/age/weights/ProximalAdagrad"]


def test_state_round_trip_continues_identically():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(6, 4, 2)).astype(np.float32)
    init = rng.normal(size=(4, 2)).astype(np.float32)
    straight, _, _ = replay("legacy.Ftrl", {"learning_rate": 0.3}, init, grads)
    first, opt, var = replay("legacy.Ftrl", {"learning_rate": 0.3}, init, grads[:3])
    state, value = opt.state_dict(), var.numpy()
    fresh = optimizers.Ftrl(learning_rate=0.3)
    fresh.load_state(state)
    var2 = tf.Variable(value, name="w")
    for g in grads[3:]:
        fresh.apply_gradients([(g, var2)])
    np.testing.assert_array_equal(var2.numpy(), straight[-1])
    assert fresh.iterations_value() == 6


def test_get_and_errors():
    assert isinstance(optimizers.get("Adagrad", learning_rate=0.05), optimizers.Adagrad)
    assert optimizers.get("Ftrl", 0.2).learning_rate == 0.2
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get(lambda: optimizers.SGD(0.1)), optimizers.SGD)
    with pytest.raises(ValueError, match="Unsupported optimizer name: Nope.*'Adagrad'"):
        optimizers.get("Nope")
    with pytest.raises(ValueError, match="not an Optimizer instance"):
        optimizers.get(42)
    with pytest.raises(ValueError, match="learning_rate_power"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength"):
        optimizers.Ftrl(l1_regularization_strength=-1.0)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        optimizers.Adagrad(initial_accumulator_value=-0.1)
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        optimizers.Adam(learning_rate=-0.1)
    with pytest.raises(ValueError, match="No gradients provided"):
        optimizers.SGD().apply_gradients([(None, tf.Variable(np.zeros(2)))])


def test_sparse_update_touches_only_its_rows():
    var = tf.Variable(np.ones((1000, 4), np.float32), name="emb")
    opt = optimizers.Adagrad(0.1)
    opt.apply_gradients([(tf.IndexedSlices(np.ones((3, 4), np.float32), [7, 2, 7],
                                           (1000, 4)), var)])
    changed = np.nonzero((var.numpy() != 1).any(1))[0]
    assert changed.tolist() == [2, 7]
    acc = opt.get_slot(var, "accumulator")
    np.testing.assert_allclose(acc[7], 0.1 + 4.0)  # duplicate rows summed first: g = 2


# --- live against TF ------------------------------------------------------------------------
@pytest.mark.tf
@settings(max_examples=20)
@given(st.sampled_from(CASES), st.booleans(), st.integers(0, 2**32 - 1),
       st.floats(0.001, 0.5))
def test_live_twenty_steps_equal_tf(case, sparse, seed, lr):
    import tensorflow as ttf
    name, path, kwargs = case
    kwargs = dict(kwargs, learning_rate=lr)
    rng = np.random.default_rng(seed)
    init = rng.normal(size=(5, 2)).astype(np.float32)
    grads = rng.normal(size=(20, 4 if sparse else 5, 2)).astype(np.float32)
    idx = rng.integers(0, 5, (20, 4)) if sparse else None
    kind, cname = path.split(".")
    tv = ttf.Variable(init)
    topt = getattr(ttf.keras.optimizers.legacy if kind == "legacy" else ttf.compat.v1.train,
                   cname)(**kwargs)
    want = []
    for k in range(20):
        g = (ttf.IndexedSlices(ttf.constant(grads[k]), ttf.constant(idx[k]), ttf.constant((5, 2)))
             if sparse else ttf.constant(grads[k]))
        topt.apply_gradients([(g, tv)])
        want.append(tv.numpy())
    got, _, _ = replay(path, kwargs, init, grads, idx)
    np.testing.assert_allclose(got, np.stack(want), rtol=1e-5, atol=1e-5)
