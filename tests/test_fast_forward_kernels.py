"""fast_step's kernels and NumPy rewrites give the bits of the plain
expressions they replace: activations.bias_relu against ``net += bias;
np.maximum(net, 0, out=net)`` for every float32 (special values included),
forward against a twin written with the generic ops' expressions, and the
backward's relu_grad_bias and times_transpose against ReluGrad + the bias's
``sum(axis=0)`` and ``np.matmul(g, k.T)``."""

import functools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import widedeep.feature_column as fc
from minitf.kernels import activations as A
from widedeep.canned import fast_step
from widedeep.feature_column import LinearModel
from widedeep.feature_column.columns import EmbeddingColumn, IndicatorColumn, TransformCache
from widedeep.models import DNNModel
from widedeep.variables import VariableStore, store_scope

QUIET = np.uint32(0x00400000)
SPECIAL = [0x00000000, 0x80000000,  # +0, -0
           0x7F800000, 0xFF800000,  # +-inf
           0x7FC00000, 0xFFC00000, 0x7FC12345, 0xFFE00001,  # quiet NaNs, payloads, signs
           0x7F800001, 0xFF80ABCD,  # signalling NaNs
           0x00000001, 0x80000001, 0x007FFFFF, 0x00800000,  # subnormals, least normal
           0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000, 0xBF800000, 0x3F800001]  # max, +-1, 1 + ulp
BITS = st.one_of(st.sampled_from(SPECIAL), st.integers(0, 2**32 - 1))


def numpy_bias_relu(net, bias):
    """What fast_step did before the kernel (a copy: the kernel works in place)."""
    out = net.copy()
    with np.errstate(all="ignore"):
        out += bias
        np.maximum(out, 0, out=out)
    return out


def assert_same_bits(got, net, bias):
    """got == numpy_bias_relu bit for bit, except the payload of NaN + NaN,
    which NumPy itself picks differently by version and loop: there the
    kernel's is net's, quieted (x86's `a + b`)."""
    want = numpy_bias_relu(net, bias)
    both = np.isnan(net) & np.isnan(np.broadcast_to(bias, net.shape))
    g, w = got.view(np.uint32), want.view(np.uint32)
    bad = np.flatnonzero((g != w) & ~both)
    assert bad.size == 0, [(hex(g.flat[i]), hex(w.flat[i])) for i in bad[:5]]
    np.testing.assert_array_equal(g[both], net.view(np.uint32)[both] | QUIET)


def f32(bits):
    return np.asarray(bits, np.uint32).view(np.float32)


@st.composite
def net_and_bias(draw):
    n, units = draw(st.integers(0, 9)), draw(st.integers(1, 40))
    net = draw(hnp.arrays(np.uint32, (n, units), elements=BITS))
    bias = draw(hnp.arrays(np.uint32, (units,), elements=BITS))
    return f32(net), f32(bias)


@given(net_and_bias())
def test_bias_relu_is_numpys_add_then_maximum(arrays):
    net, bias = arrays
    x = net.copy()
    with np.errstate(all="ignore"):
        out = A.bias_relu(x, bias)
    assert out is x  # in place
    assert_same_bits(out, net, bias)


@pytest.mark.parametrize("units", [1, 3, 8, 19, 64])
def test_bias_relu_every_pair_of_special_values(units):
    """Each special value plus each (ordinary ones among them), in rows of
    several widths: SIMD bodies and tails of NumPy's loops and the kernel's."""
    vals = np.array(SPECIAL, np.uint32)
    n = -(-len(vals) ** 2 // units)
    net = np.resize(np.repeat(vals, len(vals)), n * units).reshape(n, units)
    for shift in range(len(vals)):  # each column's bias takes every value in turn
        bias = np.roll(vals, shift)[np.arange(units) % len(vals)]
        x = f32(net).copy()
        with np.errstate(all="ignore"):
            A.bias_relu(x, f32(bias))
        assert_same_bits(x, f32(net), f32(bias))


def test_relu_of_zeros_and_nan_is_numpys():
    """The values the kernel's `v <= 0` select must give: np.maximum(v, 0) is
    +0.0 for both zeros and v itself for a NaN, payload and sign."""
    v = f32([0x80000000, 0x00000000, 0xFFC00001, 0x7FC00002, 0xBF800000])
    relu = [0, 0, 0xFFC00001, 0x7FC00002, 0]
    np.testing.assert_array_equal(np.maximum(v, 0).view(np.uint32), relu)
    x = np.stack([v, v])
    A.bias_relu(x, f32([0x80000000] * 5))  # + -0.0: the sums are v itself, -0.0 too
    np.testing.assert_array_equal(x.view(np.uint32), [relu, relu])


@given(st.sampled_from(["float64", "strided", "float64 bias", "scalar bias"]),
       st.integers(0, 2**32 - 1))
def test_bias_relu_other_inputs_take_numpy(kind, seed):
    """What the kernel does not take gets NumPy's own expressions (and
    compiles no other specialization of the kernel)."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((5, 8)).astype(np.float32)
    bias = rng.standard_normal(8).astype(np.float32)
    net = base.copy()
    if kind == "float64":
        net, bias = net.astype(np.float64), bias.astype(np.float64)
    elif kind == "strided":
        net, bias = np.ascontiguousarray(np.repeat(net, 2, axis=1))[:, ::2], bias
    elif kind == "float64 bias":
        bias = bias.astype(np.float64)
    else:
        bias = bias[:1]
    want = numpy_bias_relu(net, bias)
    out = A.bias_relu(net, bias)
    assert out is net and out.dtype == want.dtype
    np.testing.assert_array_equal(np.ascontiguousarray(out).view(np.uint8), want.view(np.uint8))
    assert all(str(s[0].dtype) == "float32" and s[0].layout == "C"
               for s in A._bias_relu.signatures)


# --- the backward's rewrites -----------------------------------------------------------
def numpy_relu_grad_bias(x, g):
    """What fast_step did before the kernel: ReluGrad's select, then the sum."""
    out = np.where(x > 0, g, np.float32(0))
    with np.errstate(all="ignore"):
        return out, out.reshape(-1, out.shape[-1]).sum(axis=0)


def assert_relu_grad_bias_bits(x, g):
    with np.errstate(all="ignore"):
        out, bias = A.relu_grad_bias(x, g)
    want_out, want_bias = numpy_relu_grad_bias(x, g)
    assert out.dtype == bias.dtype == np.float32 and bias.shape == (g.shape[1],)
    np.testing.assert_array_equal(out.view(np.uint32), want_out.view(np.uint32))
    # A NaN sum's payload is NumPy's pick when two NaNs meet (see assert_same_bits)
    nan = np.isnan(want_bias)
    np.testing.assert_array_equal(np.isnan(bias), nan)
    np.testing.assert_array_equal(bias.view(np.uint32)[~nan], want_bias.view(np.uint32)[~nan])


@given(st.integers(0, 9), st.integers(1, 40), st.data())
def test_relu_grad_bias_is_relu_grad_then_numpys_sum(n, units, data):
    x = f32(data.draw(hnp.arrays(np.uint32, (n, units), elements=BITS)))
    g = f32(data.draw(hnp.arrays(np.uint32, (n, units), elements=BITS)))
    assert_relu_grad_bias_bits(x, g)


@pytest.mark.parametrize("n, units", [(256, 100), (256, 75), (300, 2), (1000, 3), (256, 1),
                                      (4096, 25), (1, 7), (0, 5)])
def test_relu_grad_bias_at_layer_sizes(n, units):
    """Sizes a model has (NumPy's SIMD bodies and tails; one unit sums pairwise
    in NumPy, so it takes NumPy's path)."""
    rng = np.random.default_rng(n * 100 + units)
    x, g = sprinkle(rng, (n, units), 0.02), sprinkle(rng, (n, units), 0.02)
    g *= np.exp(rng.standard_normal((n, units)) * 4).astype(np.float32)  # wide exponents
    assert_relu_grad_bias_bits(x, g)
    assert_relu_grad_bias_bits(np.abs(x), -g)  # every row kept


@pytest.mark.parametrize("n", [1, 2, 5])
def test_relu_grad_bias_sums_from_positive_zero(n):
    """NumPy's sum starts from +0.0: rows of -0.0 sum to +0.0 (hypothesis found
    a kernel that started from the first row)."""
    x = np.ones((n, 3), np.float32)
    assert_relu_grad_bias_bits(x, np.full((n, 3), -0.0, np.float32))
    _, bias = A.relu_grad_bias(x, np.full((n, 3), -0.0, np.float32))
    assert not np.signbit(bias).any()


@pytest.mark.parametrize("rows, units, inputs", [(256, 1, 25), (7, 1, 1), (0, 1, 4),
                                                 (256, 3, 25), (5, 2, 9)])
def test_times_transpose_is_matmul(rows, units, inputs):
    """One unit: a multiply and + 0 give BLAS's outer product bit for bit,
    -0.0, infinities and NaNs included; more units take BLAS itself."""
    rng = np.random.default_rng(rows + units)
    vals = f32(SPECIAL)
    g = sprinkle(rng, (rows, units), 0.3)
    k = sprinkle(rng, (inputs, units), 0.3)
    g.flat[:len(vals)] = vals[:g.size]
    k.flat[:len(vals)] = vals[::-1][:k.size]
    with np.errstate(all="ignore"):
        got, want = fast_step.times_transpose(g, k), np.matmul(g, k.T)
    assert got.shape == want.shape and got.dtype == np.float32
    nan = np.isnan(want)  # (NaN * x keeps a payload; BLAS's too, but not promised)
    np.testing.assert_array_equal(np.isnan(got), nan)
    np.testing.assert_array_equal(got.view(np.uint32)[~nan], want.view(np.uint32)[~nan])


# --- forward against a twin of the generic expressions -------------------------------
COLORS = ["r", "g", "b", "c", "m"]


@functools.cache
def model(units):
    """(dnn, linear, layers) of a small wide & deep model: numeric, two
    indicator columns, an embedding; a crossed and hashed wide part."""
    age = fc.numeric_column("age")
    xy = fc.numeric_column("xy", shape=(2,))
    color = fc.categorical_column_with_vocabulary_list("color", COLORS)
    size = fc.categorical_column_with_vocabulary_list("size", ["s", "m", "l"])
    tag = fc.categorical_column_with_hash_bucket("tag", 50)
    ages = fc.bucketized_column(age, [20, 40, 60])
    deep = [age, xy, fc.indicator_column(color), fc.indicator_column(size),
            fc.embedding_column(tag, 3)]
    wide = [color, size, tag, ages, fc.crossed_column([ages, "color"], 30)]
    with store_scope(VariableStore()):
        dnn = DNNModel(units, [7, 5], deep)
        linear = LinearModel(wide, units=units, name="linear_model", scope="linear")
        layers = dnn.build()
    return dnn, linear, layers


def twin(cache, dnn, linear, layers):
    """The generic ops' expressions: concatenated blocks, matmul + bias, maximum,
    W[ids] summed in the columns' order, then the bias."""
    layer, blocks = dnn.input_layer, []
    for c in layer.columns:
        if isinstance(c, EmbeddingColumn):
            blocks.append(layer.tables[c]._value[cache.single_ids(c.categorical_column)])
        elif isinstance(c, IndicatorColumn):
            ids = cache.single_ids(c.categorical_column)
            block = np.zeros((len(ids), c.categorical_column.num_buckets), np.float32)
            block[np.arange(len(ids)), ids] = 1.0
            blocks.append(block)
        else:
            block = np.asarray(c.dense(cache, layer), np.float32)
            blocks.append(block.reshape(len(block), -1))
    net = np.concatenate(blocks, axis=1)
    for i, (kernel, bias) in enumerate(layers):
        net = np.matmul(net, kernel._value) + bias._value
        if i < len(layers) - 1:
            net = np.maximum(net, 0)
    lin = None
    for c in linear.columns:
        term = linear.weights[c]._value[cache.single_ids(c)]
        lin = term if lin is None else lin + term
    return net + (lin + linear.bias._value)


def sprinkle(rng, shape, p):
    """Normal values, some replaced by -0.0, +-inf and NaN (p: the share)."""
    x = rng.standard_normal(shape).astype(np.float32)
    mask = rng.random(shape) < p
    x[mask] = rng.choice(np.array([-0.0, np.inf, -np.inf, np.nan], np.float32), mask.sum())
    return x


@given(st.sampled_from([1, 3]), st.integers(1, 40), st.integers(0, 2**32 - 1),
       st.sampled_from([0.0, 0.05, 0.3]))
def test_forward_equals_the_generic_expressions(units, n, seed, p):
    dnn, linear, layers = model(units)
    rng = np.random.default_rng(seed)
    for v in [*linear.weights.values(), linear.bias, *dnn.input_layer.tables.values(),
              *(w for layer in layers for w in layer)]:
        v._value = sprinkle(rng, v.shape, p)
    features = {"age": sprinkle(rng, (n, 1), p) * 30 + 40, "xy": sprinkle(rng, (n, 2), p),
                "color": rng.choice(COLORS, (n, 1)), "size": rng.choice(["s", "m", "l"], (n, 1)),
                "tag": rng.choice([f"t{i}" for i in range(80)], (n, 1))}
    with np.errstate(all="ignore"):
        got = fast_step.forward(TransformCache(features), dnn, linear, layers)
        want = twin(TransformCache(features), dnn, linear, layers)
    assert got is not None
    logits = got[0]
    assert logits.shape == want.shape == (n, units) and logits.dtype == np.float32
    nan = np.isnan(want)  # a NaN's payload may differ (see assert_same_bits)
    np.testing.assert_array_equal(np.isnan(logits), nan)
    np.testing.assert_array_equal(logits.view(np.uint32)[~nan], want.view(np.uint32)[~nan])
