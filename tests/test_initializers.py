"""Initializers and `minitf.random`: the distributions TF 2.15 defines, seeding, configs.

Distribution checks are Kolmogorov-Smirnov tests of large samples drawn with
fixed seeds (so they are deterministic) against the distribution TF's docs and
code define; the live ``tf`` tests compare our samples with TF's own (two-sample
KS; TF's Philox bits are not reproduced, only the distribution).
"""

import math

import numpy as np
import pytest
from scipy import stats

import minitf as mtf
from minitf import initializers as I
from minitf import random as R

TRUNC_STD = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]
P_MIN = 1e-3
BIG = (250, 200)  # 50,000 values; fan_in 250, fan_out 200


@pytest.fixture(autouse=True)
def _no_global_seed():
    """Every test starts and ends without a global seed (it is module state)."""
    R.set_seed(None)
    yield
    R.set_seed(None)


def ks(sample, dist):
    return stats.kstest(np.asarray(sample, np.float64).reshape(-1), dist.cdf).pvalue


def fans(shape):
    """TF's _compute_fans: 0-d -> (1, 1); 1-d -> (n, n); 2-d -> rows, cols; else times the
    receptive field."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    rf = math.prod(shape[:-2])
    return shape[-2] * rf, shape[-1] * rf


def expected_vs(scale, mode, distribution, shape):
    """The scipy distribution of tf.keras.initializers.VarianceScaling's values."""
    fan_in, fan_out = fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    var = scale / max(1.0, n)
    if distribution in ("truncated_normal", "normal"):
        sd = math.sqrt(var) / TRUNC_STD
        return stats.truncnorm(-2, 2, loc=0, scale=sd)
    if distribution == "untruncated_normal":
        return stats.norm(0, math.sqrt(var))
    limit = math.sqrt(3 * var)
    return stats.uniform(-limit, 2 * limit)


# Named initializers: (class, the distribution TF's docs give for `shape`).
def _named(shape):
    fi, fo = fans(shape)
    tn = lambda sd: stats.truncnorm(-2, 2, scale=sd / TRUNC_STD)
    un = lambda lim: stats.uniform(-lim, 2 * lim)
    return {
        "GlorotUniform": un(math.sqrt(6 / (fi + fo))),
        "GlorotNormal": tn(math.sqrt(2 / (fi + fo))),
        "HeUniform": un(math.sqrt(6 / fi)),
        "HeNormal": tn(math.sqrt(2 / fi)),
        "LecunUniform": un(math.sqrt(3 / fi)),
        "LecunNormal": tn(math.sqrt(1 / fi)),
    }


NAMED = sorted(_named((2, 2)))
SHAPES = [BIG, (5, 5, 40, 50), (50000,)]

ALL_CLASSES = ["Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal", "TruncatedNormal",
               "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
               "LecunUniform", "LecunNormal", "Identity", "Orthogonal"]
SEEDED = [c for c in ALL_CLASSES if c not in ("Zeros", "Ones", "Constant", "Identity")]


def make(name, **kw):
    return getattr(I, name)(**kw)


# --- shapes and dtypes -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_CLASSES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4, 5), (7,), (6, 6)])
def test_shape_and_dtype(name, dtype, shape):
    if name == "Identity" and len(shape) != 2:
        with pytest.raises(ValueError, match="2-D"):
            make(name)(shape, dtype)
        return
    if name == "Orthogonal" and len(shape) < 2:
        with pytest.raises(ValueError, match="rank >= 2"):
            make(name)(shape, dtype)
        return
    kw = {"seed": 3} if name in SEEDED else {}
    out = make(name, **kw)(shape, dtype=dtype)
    assert isinstance(out, np.ndarray)
    assert out.shape == shape
    assert out.dtype == np.dtype(dtype)
    assert np.isfinite(out).all()
    # a Variable takes it as its initial value
    v = mtf.Variable(make(name, **kw)(shape, dtype))
    assert v.dtype == np.dtype(dtype) and tuple(v.shape) == shape


def test_constant_values():
    assert (I.Zeros()((2, 3)) == 0).all() and (I.Ones()((2, 3)) == 1).all()
    assert I.Zeros()((2,), "int32").dtype == np.int32
    np.testing.assert_array_equal(I.Constant(2.5)((2, 3)), np.full((2, 3), 2.5, np.float32))
    np.testing.assert_array_equal(I.Constant([1, 2, 3])((2, 3), "float64"),
                                  np.array([[1, 2, 3]] * 2, np.float64))
    out = I.Constant(7)((2,))
    out[0] = 0  # a fresh, writable array
    assert I.Constant(7)((2,))[0] == 7
    np.testing.assert_array_equal(I.Identity(gain=2.0)((2, 3)), 2 * np.eye(2, 3))
    np.testing.assert_array_equal(I.Identity()((3, 3), "float64"), np.eye(3))


@pytest.mark.parametrize("shape", [(4, 4), (6, 3), (3, 6), (2, 3, 4)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_orthogonal_is_orthogonal(shape, gain):
    q = I.Orthogonal(gain=gain, seed=1)(shape, "float64").reshape(-1, shape[-1])
    rows, cols = q.shape
    prod = q.T @ q if rows >= cols else q @ q.T
    np.testing.assert_allclose(prod, gain ** 2 * np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_is_haar_distributed():
    # The first column of a Haar-random 2x2 orthogonal matrix is at a uniform angle.
    angles = [np.arctan2(*I.Orthogonal(seed=s)((2, 2), "float64")[::-1, 0])
              for s in range(3000)]
    assert ks(angles, stats.uniform(-np.pi, 2 * np.pi)) > P_MIN


# --- distributions ---------------------------------------------------------------------------
@pytest.mark.parametrize("minval,maxval", [(-0.05, 0.05), (0.0, 1.0), (2.0, 5.0), (-3.0, -1.0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_uniform_distribution(minval, maxval, dtype):
    x = I.RandomUniform(minval, maxval, seed=11)(BIG, dtype)
    assert x.min() >= minval and x.max() <= maxval
    assert ks(x, stats.uniform(minval, maxval - minval)) > P_MIN


def test_random_uniform_integer_dtype():
    x = I.RandomUniform(-5, 5, seed=1)((50000,), "int32")
    assert x.dtype == np.int32
    counts = np.bincount(x - -5, minlength=10)
    assert len(counts) == 10
    assert stats.chisquare(counts).pvalue > P_MIN


@pytest.mark.parametrize("mean,stddev", [(0.0, 0.05), (1.0, 2.0), (-3.0, 0.5)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_normal_distribution(mean, stddev, dtype):
    x = I.RandomNormal(mean, stddev, seed=12)(BIG, dtype)
    assert ks(x, stats.norm(mean, stddev)) > P_MIN


@pytest.mark.parametrize("mean,stddev", [(0.0, 0.05), (1.0, 2.0), (-3.0, 0.5)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_truncated_normal_distribution(mean, stddev, dtype):
    """TF's TruncatedNormal: N(mean, stddev) restricted to mean +- 2 stddev, *without*
    the VarianceScaling correction (the stddev argument is the untruncated one)."""
    x = I.TruncatedNormal(mean, stddev, seed=13)(BIG, dtype).astype(np.float64)
    tol = 2 * stddev * (1 + 1e-6)
    assert np.abs(x - mean).max() <= tol
    assert ks(x, stats.truncnorm(-2, 2, loc=mean, scale=stddev)) > P_MIN
    assert abs(x.std() / stddev - TRUNC_STD) < 0.01


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform",
                                          "normal"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("scale", [1.0, 2.0, 0.3])
def test_variance_scaling_distribution(scale, mode, distribution, shape):
    x = I.VarianceScaling(scale, mode, distribution, seed=21)(shape, "float64")
    dist = expected_vs(scale, mode, distribution, shape)
    assert ks(x, dist) > P_MIN
    lo, hi = dist.support()
    assert lo <= x.min() and x.max() <= hi
    # The variance is scale / n in every distribution (the 0.8796 correction's point).
    fi, fo = fans(shape)
    n = {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2}[mode]
    assert abs(x.var() / (scale / n) - 1) < 0.03


def test_variance_scaling_small_fans():
    """n < 1 is clamped to 1 (a 0-d shape has fans (1, 1))."""
    x = np.array([I.VarianceScaling(4.0, distribution="uniform", seed=s)((), "float64")
                  for s in range(3000)])
    assert ks(x, stats.uniform(-math.sqrt(12), 2 * math.sqrt(12))) > P_MIN


def test_variance_scaling_rejects_bad_arguments():
    with pytest.raises(ValueError, match="positive"):
        I.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="cauchy")
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    assert I.VarianceScaling(distribution="Uniform").distribution == "uniform"


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", NAMED)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_named_initializer_distribution(name, shape, dtype):
    x = make(name, seed=31)(shape, dtype)
    dist = _named(shape)[name]
    assert ks(x, dist) > P_MIN
    lo, hi = dist.support()
    eps = 1e-6 * hi
    assert lo - eps <= x.min() and x.max() <= hi + eps


@pytest.mark.parametrize("name,factory,kwargs,dist", [
    ("glorot_uniform_initializer", I.glorot_uniform_initializer, {},
     stats.uniform(-math.sqrt(6 / 450), 2 * math.sqrt(6 / 450))),
    ("truncated_normal_initializer", I.truncated_normal_initializer, {},
     stats.truncnorm(-2, 2)),  # v1 default stddev 1.0
    ("truncated_normal_initializer_args", I.truncated_normal_initializer,
     dict(mean=1.0, stddev=0.1), stats.truncnorm(-2, 2, loc=1.0, scale=0.1)),
    ("random_normal_initializer", I.random_normal_initializer, {}, stats.norm()),
    ("random_uniform_initializer", I.random_uniform_initializer, {}, stats.uniform(0, 1)),
    ("random_uniform_initializer_args", I.random_uniform_initializer,
     dict(minval=-2.0, maxval=3.0), stats.uniform(-2, 5)),
])
def test_compat_v1_initializers(name, factory, kwargs, dist):
    x = factory(seed=41, **kwargs)(BIG)
    assert x.dtype == np.float32
    assert ks(x, dist) > P_MIN


def test_compat_v1_constant_initializers():
    assert (I.zeros_initializer()((2, 2)) == 0).all()
    assert (I.ones_initializer()((2, 2)) == 1).all()
    assert (I.constant_initializer(0.5)((2, 2)) == 0.5).all()


# --- seeding ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SEEDED)
def test_seed_reproducible(name):
    shape = (8, 6)
    a = make(name, seed=5)(shape)
    b = make(name, seed=5)(shape)
    np.testing.assert_array_equal(a, b)
    init = make(name, seed=5)
    np.testing.assert_array_equal(init(shape), init(shape))  # Keras v2: same values per call
    c = make(name, seed=6)(shape)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", SEEDED)
def test_unseeded_differs(name):
    init = make(name)
    assert not np.array_equal(init((8, 6)), init((8, 6)))


@pytest.mark.parametrize("name", SEEDED)
def test_global_seed(name):
    """With a global seed, unseeded draws are a reproducible sequence; an op seed gives
    values that depend on the global seed too."""
    R.set_seed(7)
    first = [make(name)((5, 4)) for _ in range(3)]
    R.set_seed(7)
    again = [make(name)((5, 4)) for _ in range(3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])
    seeded7 = make(name, seed=1)((5, 4))
    R.set_seed(8)
    assert not np.array_equal(make(name, seed=1)((5, 4)), seeded7)
    R.set_seed(7)
    np.testing.assert_array_equal(make(name, seed=1)((5, 4)), seeded7)


# --- minitf.random ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_ops_distributions(dtype):
    u = mtf.random.uniform(BIG, -1.0, 3.0, dtype=dtype, seed=1)
    n = mtf.random.normal(BIG, 2.0, 0.5, dtype=dtype, seed=2)
    t = mtf.random.truncated_normal(BIG, -1.0, 3.0, dtype=dtype, seed=3)
    for x in (u, n, t):
        assert isinstance(x, mtf.Tensor) and x.dtype == np.dtype(dtype) and x.shape == BIG
    assert ks(u.numpy(), stats.uniform(-1, 4)) > P_MIN
    assert ks(n.numpy(), stats.norm(2.0, 0.5)) > P_MIN
    assert ks(t.numpy(), stats.truncnorm(-2, 2, loc=-1.0, scale=3.0)) > P_MIN
    assert ks(mtf.random.uniform([50000], seed=4).numpy(), stats.uniform()) > P_MIN


def test_random_uniform_ints():
    x = mtf.random.uniform([50000], minval=-3, maxval=4, dtype="int64", seed=5).numpy()
    assert x.dtype == np.int64 and x.min() == -3 and x.max() == 3
    assert stats.chisquare(np.bincount(x + 3)).pvalue > P_MIN
    with pytest.raises(ValueError, match="maxval"):
        mtf.random.uniform([3], dtype="int32")
    with pytest.raises(ValueError, match="float"):
        mtf.random.normal([3], dtype="int32")


def test_random_shapes():
    assert mtf.random.normal([], seed=1).shape == ()
    assert mtf.random.normal(3, seed=1).shape == (3,)
    assert mtf.random.uniform((2, 0, 3), seed=1).shape == (2, 0, 3)
    assert mtf.random.truncated_normal(mtf.constant([2, 3]), seed=1).shape == (2, 3)


def test_random_seeding():
    a = mtf.random.normal([10], seed=3).numpy()
    np.testing.assert_array_equal(a, mtf.random.normal([10], seed=3).numpy())
    assert not np.array_equal(a, mtf.random.normal([10], seed=4).numpy())
    assert not np.array_equal(mtf.random.normal([10]).numpy(), mtf.random.normal([10]).numpy())
    mtf.random.set_seed(1)
    seq = [mtf.random.uniform([4]).numpy() for _ in range(3)]
    mtf.random.set_seed(1)
    for s in seq:
        np.testing.assert_array_equal(s, mtf.random.uniform([4]).numpy())
    assert not np.array_equal(seq[0], seq[1])
    assert R.get_seed(9) == (1, 9)
    R.set_seed(None)
    assert R.get_seed(None) == (None, None)
    g, op = R.get_seed(9)
    assert op == 9 and g is not None


# --- get / config ----------------------------------------------------------------------------
CONFIGS = {
    "Zeros": {}, "Ones": {}, "Constant": {"value": 2.5},
    "RandomUniform": {"minval": -1.0, "maxval": 2.0, "seed": 4},
    "RandomNormal": {"mean": 0.5, "stddev": 0.2, "seed": 4},
    "TruncatedNormal": {"mean": -0.5, "stddev": 0.3, "seed": None},
    "VarianceScaling": {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 9},
    "GlorotUniform": {"seed": 1}, "GlorotNormal": {"seed": None}, "HeUniform": {"seed": 2},
    "HeNormal": {"seed": 3}, "LecunUniform": {"seed": 4}, "LecunNormal": {"seed": None},
    "Identity": {"gain": 0.5}, "Orthogonal": {"gain": 2.0, "seed": 7},
}
ALIASES = {"zeros": "Zeros", "ones": "Ones", "constant": "Constant",
           "random_uniform": "RandomUniform", "random_normal": "RandomNormal",
           "truncated_normal": "TruncatedNormal", "variance_scaling": "VarianceScaling",
           "glorot_uniform": "GlorotUniform", "glorot_normal": "GlorotNormal",
           "he_uniform": "HeUniform", "he_normal": "HeNormal", "lecun_uniform": "LecunUniform",
           "lecun_normal": "LecunNormal", "identity": "Identity", "orthogonal": "Orthogonal"}


@pytest.mark.parametrize("name", ALL_CLASSES)
def test_config_round_trip(name):
    init = make(name, **CONFIGS[name])
    cfg = init.get_config()
    assert cfg == CONFIGS[name]
    cls = getattr(I, name)
    assert cls.from_config(cfg) == init
    again = I.get({"class_name": name, "config": cfg})
    assert type(again) is cls and again.get_config() == cfg
    assert I.get(init) is init
    assert I.get(name) == cls()
    if name not in SEEDED or cfg["seed"] is not None:  # deterministic: same values
        np.testing.assert_array_equal(again((4, 4)), cls.from_config(cfg)((4, 4)))
    assert repr(init).startswith(name + "(")
    assert hash(init) == hash(cls.from_config(cfg))


@pytest.mark.parametrize("alias,name", sorted(ALIASES.items()))
def test_get_aliases(alias, name):
    got = I.get(alias)
    assert type(got) is getattr(I, name)
    assert getattr(I, alias) is getattr(I, name)  # module-level alias, as tf.keras.initializers


def test_get_other_identifiers():
    assert I.get(None) is None
    fn = lambda shape, dtype="float32": np.zeros(shape, dtype)
    assert I.get(fn) is fn
    assert I.get({"class_name": "Zeros"}) == I.Zeros()
    with pytest.raises(ValueError, match="unknown initializer"):
        I.get("no_such_init")
    with pytest.raises(ValueError, match="unknown initializer class"):
        I.get({"class_name": "NoSuch", "config": {}})
    with pytest.raises(ValueError, match="could not interpret"):
        I.get(3)


def test_constant_config_with_array():
    cfg = I.Constant(np.array([1.0, 2.0])).get_config()
    assert cfg == {"value": [1.0, 2.0]}
    np.testing.assert_array_equal(I.Constant.from_config(cfg)((2,)), [1.0, 2.0])


def test_equality():
    assert I.GlorotUniform(seed=1) == I.GlorotUniform(seed=1)
    assert I.GlorotUniform(seed=1) != I.GlorotUniform(seed=2)
    assert I.GlorotUniform(seed=1) != I.HeUniform(seed=1)
    assert I.VarianceScaling(2.0, "fan_in", "truncated_normal") != I.HeNormal()


# --- live: against TensorFlow ----------------------------------------------------------------
LIVE = [
    ("RandomUniform", dict(minval=-0.3, maxval=0.7), BIG),
    ("RandomNormal", dict(mean=0.2, stddev=0.5), BIG),
    ("TruncatedNormal", dict(mean=-0.1, stddev=0.4), BIG),
    ("GlorotUniform", {}, BIG), ("GlorotNormal", {}, BIG),
    ("HeUniform", {}, BIG), ("HeNormal", {}, BIG),
    ("LecunUniform", {}, BIG), ("LecunNormal", {}, BIG),
    ("GlorotNormal", {}, (5, 5, 40, 50)), ("HeUniform", {}, (5, 5, 40, 50)),
    ("VarianceScaling", dict(scale=0.3, mode="fan_out", distribution="untruncated_normal"), BIG),
    ("VarianceScaling", dict(scale=2.5, mode="fan_avg", distribution="uniform"), (7, 50, 60)),
    ("VarianceScaling", dict(scale=1.5, mode="fan_in", distribution="truncated_normal"), BIG),
    ("VarianceScaling", dict(scale=1.0, mode="fan_in", distribution="normal"), (50000,)),
]


@pytest.mark.tf
@pytest.mark.parametrize("name,kwargs,shape", LIVE, ids=lambda v: str(v).replace(" ", ""))
def test_live_same_distribution_as_tf(name, kwargs, shape):
    tf = pytest.importorskip("tensorflow")
    theirs = getattr(tf.keras.initializers, name)(seed=17, **kwargs)(shape, "float32").numpy()
    ours = make(name, seed=17, **kwargs)(shape, "float32")
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert stats.ks_2samp(ours.reshape(-1), theirs.reshape(-1)).pvalue > P_MIN
    assert theirs.min() >= ours.min() - 0.05 * abs(ours.min())  # same support, roughly
    assert theirs.max() <= ours.max() + 0.05 * abs(ours.max())


@pytest.mark.tf
def test_live_random_ops_same_distribution_as_tf():
    tf = pytest.importorskip("tensorflow")
    pairs = [
        (tf.random.uniform(BIG, -2.0, 1.0, seed=1), mtf.random.uniform(BIG, -2.0, 1.0, seed=1)),
        (tf.random.normal(BIG, 1.0, 3.0, seed=2), mtf.random.normal(BIG, 1.0, 3.0, seed=2)),
        (tf.random.truncated_normal(BIG, 0.5, 2.0, seed=3),
         mtf.random.truncated_normal(BIG, 0.5, 2.0, seed=3)),
    ]
    for theirs, ours in pairs:
        assert stats.ks_2samp(ours.numpy().reshape(-1),
                              theirs.numpy().reshape(-1)).pvalue > P_MIN


@pytest.mark.tf
@pytest.mark.parametrize("name", ALL_CLASSES)
def test_live_config_equals_tf(name):
    tf = pytest.importorskip("tensorflow")
    cfg = CONFIGS[name]
    assert getattr(tf.keras.initializers, name)(**cfg).get_config() == cfg
    assert getattr(tf.keras.initializers, name)().get_config() == make(name).get_config()


@pytest.mark.tf
@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 4), (2, 3, 4, 5)], ids=str)
def test_live_fans_match_tf(shape):
    pytest.importorskip("tensorflow")
    from keras.src.initializers.initializers import _compute_fans

    assert tuple(_compute_fans(shape)) == fans(shape) == I._fans(shape)


@pytest.mark.tf
def test_live_integer_random_uniform_is_uniform_in_tf():
    """The behaviour test_random_uniform_integer_dtype expects (and minitf lacks)."""
    tf = pytest.importorskip("tensorflow")
    x = tf.keras.initializers.RandomUniform(-5, 5, seed=1)((50000,), "int32").numpy()
    counts = np.bincount(x + 5, minlength=10)
    assert len(counts) == 10 and stats.chisquare(counts).pvalue > P_MIN
