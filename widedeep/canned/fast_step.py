"""The canned model's forward and backward without the tape, for the common case.

When every categorical input of a batch has one valid id per row (the census
model, and most tabular data), the wide & deep model is a few gathers and a
chain of GEMMs; recording ~40 ops on the tape and walking them back costs more
than the arithmetic. Here the same arithmetic runs directly:

    wide  = W_0[ids_0] + W_1[ids_1] + ... + b            (rows_add_n's order)
    x     = [numeric | one-hot | E[ids] | ...]           (the input layer's columns)
    h_i   = relu(h_{i-1} @ K_i + b_i);  deep = h_L @ K + b
    logits = deep + wide           -> the head (on the tape) -> g = dloss/dlogits
    backward: the chain rule by hand; tables get IndexedSlices(g rows, ids)

Each expression is the one the generic ops evaluate, in the same order, so
the results are the same bits (tests/test_canned.py checks both paths against
each other and against TF). Anything else (dropout, batch norm, other
activations, weighted, multivalent or missing ids, dense linear columns) takes
the generic path. The forward also serves evaluate, predict and exported models
(the canned model_fn runs it in every mode once its variables exist).

At batch 256 most NumPy calls here cost more in overhead than in arithmetic, so
(the same bits, as these only move values or compute the same float32 sums):
the gathers are `take` (fancy indexing's rows, in half the time); a one-hot is one
flat fancy write of 1.0 per column, at row start + id; and each hidden layer's
`+ b` and relu is one Numba pass over the fresh product, in place (bias_relu in
minitf/kernels/activations.py: each element's float32 sum, then np.maximum's
value for it, signed zeros and NaN included). The one difference: when both
addends are NaN the kernel keeps the product's payload, where NumPy's choice
varies with its version and loop (IEEE leaves it open). The wide sum stays in
NumPy: one kernel over a tuple of tables took ~4 us against take's ~9, but a
cold compile of ~0.35 s for each number of columns. In the backward, each hidden
layer's ReluGrad and bias sum are one pass (relu_grad_bias), and a one-unit
logits layer's input gradient is a multiply, not a GEMM (times_transpose): the
same bits again, ~30 us less a census step.
"""

import numpy as np

import minitf as tf
from minitf.blas import gemm
from minitf.kernels.activations import bias_relu, relu_grad_bias
from minitf.sparse import IndexedSlices
from widedeep.feature_column.columns import (
    CategoricalColumn,
    EmbeddingColumn,
    IndicatorColumn,
    NumericColumn,
)
from widedeep.models.dnn import activation


def supported(model):
    """Whether a CannedModel's configuration can take the fast step."""
    deep_ok = all(isinstance(c, (NumericColumn, IndicatorColumn))
                  or isinstance(c, EmbeddingColumn) and c.max_norm is None
                  for c in model.dnn_feature_columns)
    wide_ok = all(isinstance(c, CategoricalColumn) for c in model.linear_feature_columns)
    return (deep_ok and wide_ok and model.dnn_dropout is None and not model.batch_norm
            and activation(model.dnn_activation_fn) is tf.nn.relu)  # 'relu' (a config's) too


def forward(cache, dnn, linear, layers):
    """(logits [batch, units], backward) or None when the batch needs the
    generic path. `layers` is [(kernel, bias)] of the hidden and logits layers;
    backward(g) returns {id(variable): gradient}."""
    wide = []
    if linear is not None:
        for c in linear.columns:
            w = linear.weights[c]
            ids = cache.single_ids(c)
            if ids is None:
                return None
            wide.append((w, ids))
    # The input layer: (first column, block or one-hot ids) per column, written
    # into one zeroed array (what concatenating the columns' blocks gives);
    # (table, ids, first column) per embedding for the backward.
    parts, tables, width = [], [], 0
    if dnn is not None:
        layer = dnn.input_layer
        for c in layer.columns:
            if isinstance(c, (EmbeddingColumn, IndicatorColumn)):
                ids = cache.single_ids(c.categorical_column)
                if ids is None and isinstance(c, EmbeddingColumn):
                    return None
            if isinstance(c, EmbeddingColumn):
                table = layer.tables[c]
                tables.append((table, ids, width))
                parts.append((width, table._value.take(ids, axis=0)))
                width += table.shape[1]
            elif isinstance(c, IndicatorColumn) and ids is not None:
                parts.append((width, ids))  # a one-hot row each: a 1 at width + id
                width += c.categorical_column.num_buckets
            else:
                block = np.asarray(c.dense(cache, layer), np.float32)
                parts.append((width, block.reshape(len(block), -1)))
                width += parts[-1][1].shape[1]
    logits, acts = None, []
    if dnn is not None:
        n = len(parts[0][1])
        net = np.zeros((n, width), np.float32)
        flat, rows = net.reshape(-1), np.arange(0, n * width, width)  # rows: where each starts
        for start, p in parts:
            if p.ndim == 1:
                flat[start:][rows + p] = 1.0  # net[i, start + p[i]] = 1
            else:
                net[:, start:start + p.shape[1]] = p
        for i, (kernel, bias) in enumerate(layers):
            acts.append(net)
            net = gemm(net, kernel._value)  # a fresh product: summed into in place
            if i < len(layers) - 1:
                bias_relu(net, bias._value)  # net += b; np.maximum(net, 0, out=net)
            else:
                net += bias._value
        logits = net
    if wide:
        lin = wide[0][0]._value.take(wide[0][1], axis=0)  # a fresh gather: summed into
        for w, ids in wide[1:]:
            lin += w._value.take(ids, axis=0)
        lin += linear.bias._value
        logits = lin if logits is None else logits + lin

    def backward(g):
        grads = {}
        if wide:
            for w, ids in wide:
                grads[id(w)] = IndexedSlices(g, ids, w.shape)
            grads[id(linear.bias)] = g.sum(axis=0)
        if dnn is not None:
            grads.update(_dnn_backward(g, layers, acts, tables))
        return grads
    return logits, backward


def _dnn_backward(g, layers, acts, tables):
    """Gradients of the GEMM chain (relu between layers) and of the embedding
    tables, from g = dloss/d(deep logits)."""
    grads = {}
    for i in range(len(layers) - 1, -1, -1):
        kernel, bias = layers[i]
        a = acts[i]
        if i < len(layers) - 1:  # relu: acts[i + 1] = relu(h_i); then the bias's sum
            g, grads[id(bias)] = relu_grad_bias(acts[i + 1], g)
        else:
            grads[id(bias)] = g.reshape(-1, bias.shape[0]).sum(axis=0)
        grads[id(kernel)] = gemm(a.T, g)
        if i > 0 or tables:  # the input layer's gradient only feeds embeddings
            g = times_transpose(g, kernel._value)
    for table, ids, start in tables:
        d = table.shape[1]
        grads[id(table)] = IndexedSlices(g[:, start:start + d], ids, table.shape)
    return grads


def times_transpose(g, k):
    """``g @ k.T``. With one unit (a binary or one-target head's logits layer)
    each element is one product, which BLAS forms as 0 + g * k (so a -0.0
    product comes out +0.0): a broadcast multiply and ``+= 0`` give the same
    bits in ~2 us, against ~10 for BLAS's outer product."""
    if g.shape[1] == 1 and k.shape[1] == 1:
        out = g * k.reshape(1, -1)
        out += out.dtype.type(0)
        return out
    return gemm(g, k.T)
