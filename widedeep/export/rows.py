"""The serving fast path for the common case: every feature one value per example.

A served request is usually one example (or a few) whose every feature holds one
value: one string per categorical feature, one number per numeric one. Then every
categorical column gives exactly one id per row, and the model reduces to

    wide  = W_1[id_1] + W_2[id_2] + ... + W_k[id_k] + bias       (columns by name)
    x     = [numeric values | one-hot of indicator ids | table[id] of embeddings]
    deep  = relu(...relu(x @ K_0 + b_0)...) @ K_out + b_out
    logits = deep + wide;  predictions = the head's formulas

which `RowPlan` computes with a handful of NumPy calls, its arrays prepared once
at load. It is bit-for-bit the canned model_fn, because it does the same float32
operations in the same order (a weighted sum over one id with weight 1 is that
row, exactly: 0 + 1 * p = p, and p / 1 = p for 'mean' and 'sqrtn'; the sums run
sequentially as add_n does; the GEMMs are the same BLAS calls on the same shapes).

Ids come from per-column caches {raw value (or tuple of a cross's leaves): id}.
A miss runs the column's own transform on the missing rows, so ids are the
columns' (TF's hashing included) by construction. Caches are per input *form*
(which string features arrive sparse): TF's sparse_cross hashes sparse inputs
before dense ones, and a dense '' is missing while a sparse '' is a value.

`RowPlan.logits` returns None whenever a row is not of that simple shape (no id,
or several, in some column); the caller then runs the general path.

One example, the usual request, has its own path (`RowPlan.row_logits`): the same
operations on the same [1, d] shapes, but driven by a list of steps compiled once
per form, plain dict lookups and Python ints instead of NumPy's per-call overhead
on arrays of one element (~5x less time for a census row).
"""

from bisect import bisect_right

import numpy as np

import minitf as tf
from minitf.blas import adaptive_threads, gemm
from minitf.ops.math import _sigmoid
from minitf.sparse import SparseTensor
from widedeep.feature_column import (
    BucketizedColumn,
    CrossedColumn,
    EmbeddingColumn,
    HashedCategoricalColumn,
    IndicatorColumn,
    NumericColumn,
    SharedEmbeddingColumn,
    TransformCache,
)
from widedeep.feature_column.columns import (
    VocabularyFileCategoricalColumn,
    VocabularyListCategoricalColumn,
)
from widedeep.feature_column.inputs import FixedLenFeature
from widedeep.heads import (
    BinaryClassHead,
    LogisticRegressionHead,
    MultiClassHead,
    MultiLabelHead,
    PoissonRegressionHead,
    RegressionHead,
)
from widedeep.heads.base_head import class_strings

CACHE_SIZE = 1 << 16  # ids kept per column and form; a full cache is emptied
_STRING_LOOKUPS = (VocabularyListCategoricalColumn, VocabularyFileCategoricalColumn,
                   HashedCategoricalColumn)


def _scalar_numeric(c):
    return isinstance(c, NumericColumn) and tuple(c.shape) == (1,) and c.normalizer_fn is None


def _simple(c):
    """Whether categorical column c gives one id per row from one value per feature."""
    if isinstance(c, _STRING_LOOKUPS):
        return c.dtype == "string"
    if isinstance(c, BucketizedColumn):
        return _scalar_numeric(c.source_column)
    if isinstance(c, CrossedColumn):
        return all(isinstance(k, str) or _simple(k) for k in c._leaves())
    return False


class RowPlan:
    """The model's forward pass for single-valued rows (see the module docstring).

    Build with `RowPlan.build(*runtime.model_arrays(canned, store))`; None when a
    column is of a kind the plan does not cover (weighted, identity, integer,
    multi-valued numeric, ...).
    """

    def __init__(self, linear, dnn, head):
        self.keys, self.numeric_keys = set(), set()  # the raw features read
        self._caches = {}  # {(form, column): {key: id}}
        self._programs = {}  # {form: _RowProgram}, for row_logits
        self.row_hits = 0  # rows row_logits computed itself (not through `logits`)
        self._linear = linear and self._linear_plan(*linear)
        self._dnn = dnn and self._dnn_plan(*dnn)
        self._predict = head_predictions(head)

    @classmethod
    def build(cls, linear, dnn, head):
        cols = ([c for c, _ in linear[0]] if linear else []) + (list(dnn[0]) if dnn else [])
        for c in cols:
            if isinstance(c, (EmbeddingColumn, SharedEmbeddingColumn)):
                c = c.categorical_column
            elif isinstance(c, IndicatorColumn):
                c = c.categorical_column
            if not (_scalar_numeric(c) or _simple(c)):
                return None
        return cls(linear, dnn, head)

    def _need(self, c):
        """Notes the raw features column c reads (fixed-length ones are numbers)."""
        for key, spec in c.parse_example_spec.items():
            self.keys.add(key)
            if isinstance(spec, FixedLenFeature):
                self.numeric_keys.add(key)

    def _linear_plan(self, columns, bias, combiner):
        """One table holding every categorical column's weights, then the bias, then
        a zero row (for ids out of range, which the lookup drops)."""
        del combiner  # one id of weight 1: every combiner gives the row itself
        tables, offsets, numeric, order = [], [], [], []
        start = 0
        for i, (c, w) in enumerate(columns):
            self._need(c)
            if _scalar_numeric(c):
                numeric.append((i, c.key, w))
                continue
            order.append(i)
            offsets.append((c, start, len(w)))
            tables.append(w)
            start += len(w)
        table = np.concatenate(tables + [bias[None, :], np.zeros_like(bias)[None, :]])
        return {"table": np.ascontiguousarray(table, np.float32), "cat": offsets,
                "cat_pos": order, "numeric": numeric, "bias_row": start, "zero_row": start + 1,
                "n": len(columns)}

    def _dnn_plan(self, columns, tables, layers, out, activation):
        """Where each column's block sits in the input layer, and the GEMM chain."""
        blocks, width = [], 0
        for c in columns:
            self._need(c)
            if _scalar_numeric(c):
                blocks.append(("numeric", c, width, 1, None))
                width += 1
            elif isinstance(c, BucketizedColumn):
                blocks.append(("onehot", c, width, len(c.boundaries) + 1, None))
                width += len(c.boundaries) + 1
            elif isinstance(c, IndicatorColumn):
                n = c.categorical_column.num_buckets
                blocks.append(("onehot", c.categorical_column, width, n, None))
                width += n
            else:  # an embedding: its table plus a zero row for a dropped id
                t = tables[c]
                padded = np.concatenate([t, np.zeros((1, t.shape[1]), t.dtype)])
                blocks.append(("embed", c.categorical_column, width, t.shape[1], padded))
                width += t.shape[1]
        relu = activation is tf.nn.relu
        return {"blocks": blocks, "width": width, "layers": layers, "out": out,
                "activation": None if relu else activation}

    # --- ids ----------------------------------------------------------------------------
    def _ids(self, c, rows, n, form, memo):
        """int64 [n] ids of categorical column c, or None if a row has no id or several."""
        got = memo.get(c, False)
        if got is not False:
            return got
        if isinstance(c, BucketizedColumn):  # as BucketizedColumn._transform computes it
            x = np.asarray(rows[c.source_column.key], np.float32).reshape(n)
            ids = np.searchsorted(np.asarray(c.boundaries, np.float64), x.astype(np.float64),
                                  side="right").astype(np.int64)
        else:
            ids = self._cached_ids(c, rows, n, form, memo)
        memo[c] = ids
        return ids

    def _cache_keys(self, c, rows, n, form, memo):
        if isinstance(c, CrossedColumn):
            parts = []
            for leaf in c._leaves():
                part = rows[leaf] if isinstance(leaf, str) else self._ids(leaf, rows, n, form,
                                                                          memo)
                if part is None:
                    return None
                parts.append(part if isinstance(leaf, str) else part.tolist())
            return list(zip(*parts))
        return rows[c.key]

    def _cached_ids(self, c, rows, n, form, memo):
        keys = self._cache_keys(c, rows, n, form, memo)
        if keys is None:
            return None
        cache = self._caches.setdefault((form, c), {})
        ids = [cache.get(k) for k in keys]
        if None in ids:
            miss = [i for i, v in enumerate(ids) if v is None]
            new = self._transform(c, rows, miss, form)
            if new is None:
                return None
            if len(cache) + len(miss) > CACHE_SIZE:
                cache.clear()
            for i, v in zip(miss, new):
                ids[i] = cache[keys[i]] = v
        return np.array(ids, np.int64)

    def _transform(self, c, rows, miss, form):
        """The column's own ids for rows `miss` (a list of int), or None if one of
        them has no id or several."""
        m = len(miss)
        feats = {}
        for key in c.parse_example_spec:
            v = rows[key]
            if key in self.numeric_keys:
                vals = np.asarray([v[i] for i in miss])
            else:  # strings as objects, so that b'a' stays bytes and '' stays ''
                vals = np.empty(m, object)
                vals[:] = [v[i] for i in miss]
            if key in form:
                feats[key] = SparseTensor(np.stack([np.arange(m), np.zeros(m, np.int64)], 1),
                                          vals, [m, 1])
            else:
                feats[key] = vals.reshape(m, 1)
        ids, weights = c.id_weight_pair(TransformCache(feats))
        if weights is not None or len(ids.values) != m or not np.array_equal(
                ids.indices[:, 0], np.arange(m)):
            return None
        return ids.values.astype(np.int64).tolist()

    # --- forward ------------------------------------------------------------------------
    def logits(self, rows, n, form=frozenset()):
        """float32 [n, units] logits, or None if some row is not single-valued.

        Args:
          rows: {feature key: sequence of n values} (strings, or numbers).
          form: the string features that the model_fn would get as SparseTensors.
        """
        memo = {}
        logits = None
        if self._dnn is not None:
            x = self._input_layer(rows, n, form, memo)
            if x is None:
                return None
            logits = self._deep(x)
        if self._linear is not None:
            wide = self._wide(rows, n, form, memo)
            if wide is None:
                return None
            logits = wide if logits is None else logits + wide
        return logits

    def _input_layer(self, rows, n, form, memo):
        d = self._dnn
        x = np.zeros((n, d["width"]), np.float32)
        for kind, c, start, width, table in d["blocks"]:
            if kind == "numeric":
                x[:, start] = np.asarray(rows[c.key], np.float32).reshape(n)
                continue
            ids = self._ids(c, rows, n, form, memo)
            if ids is None:
                return None
            ok = (ids >= 0) & (ids < (width if kind == "onehot" else len(table) - 1))
            if kind == "onehot":
                x[np.arange(n)[ok], start + ids[ok]] = 1.0
            else:
                x[:, start:start + width] = table[np.where(ok, ids, len(table) - 1)]
        return x

    def _deep(self, net):
        if len(net) < 32:  # BLAS does not thread GEMMs this small
            return self._gemms(net)
        # Small GEMMs on one BLAS thread (on a busy machine a second one waiting for
        # a core makes a batch of 256 ten times slower), as Estimator.predict does.
        with adaptive_threads():
            return self._gemms(net)

    def _gemms(self, net):
        d = self._dnn
        for kernel, bias in d["layers"]:
            net = gemm(net, kernel)
            net += bias  # as bias_add(matmul(net, kernel), bias), in place
            net = np.maximum(net, 0, out=net) if d["activation"] is None else np.asarray(
                d["activation"](tf.constant(net)).numpy())
        kernel, bias = d["out"]
        net = gemm(net, kernel)
        net += bias
        return net

    def _wide(self, rows, n, form, memo):
        lin = self._linear
        gather = np.full((lin["n"] + 1, n), lin["zero_row"], np.int64)  # table row per column
        gather[-1] = lin["bias_row"]
        for pos, (c, start, size) in zip(lin["cat_pos"], lin["cat"]):
            ids = self._ids(c, rows, n, form, memo)
            if ids is None:
                return None
            gather[pos] = np.where((ids >= 0) & (ids < size), start + ids, lin["zero_row"])
        parts = lin["table"][gather]  # [columns + 1, n, units]
        for pos, key, w in lin["numeric"]:  # the dense column's matmul, as LinearModel's
            parts[pos] = gemm(np.asarray(rows[key], np.float32).reshape(n, 1), w)
        # add_n adds in column order, then the bias: a sequential sum (accumulate).
        return np.add.accumulate(parts, axis=0)[-1]

    def predictions(self, logits):
        return self._predict(logits)

    # --- one row ------------------------------------------------------------------------
    def row_logits(self, values, form=frozenset()):
        """`logits(rows, 1, form)` for one row {feature key: its one value}.

        Bit-for-bit the same: the same float32 operations on the same [1, d] arrays,
        with ids from the same caches. A value not in the caches yet, or a number
        that is not a Python float (an exact float32 here), goes through `logits`,
        which fills the caches; None when the row is not single-valued.
        """
        prog = self._programs.get(form)
        if prog is None:
            prog = self._programs[form] = _RowProgram(self, form)
        ids = prog.ids(values)
        if ids is None:
            return self.logits({k: [v] for k, v in values.items()}, 1, form)
        self.row_hits += 1
        logits = None
        if self._dnn is not None:
            logits = self._deep(prog.input_row(values, ids))
        if self._linear is not None:
            wide = prog.wide(values, ids)
            logits = wide if logits is None else logits + wide
        return logits


class _RowProgram:
    """RowPlan's forward pass for one row and one form, as lists of steps.

    `ids` fills a list of Python ints, one slot per categorical column, in an order
    where a cross's leaves come before the cross; `input_row` and `wide` read them.
    """

    def __init__(self, plan, form):
        self.floats = sorted(plan.numeric_keys)  # numbers, checked to be floats first
        self.steps, slot = [], {}  # steps: (kind, a, b) -> ids[slot[column]]

        def add(c):
            if c in slot:
                return slot[c]
            if isinstance(c, BucketizedColumn):  # searchsorted(side="right") on float64
                step = ("bucket", [float(b) for b in np.asarray(c.boundaries, np.float64)],
                        c.source_column.key)
            elif isinstance(c, CrossedColumn):  # cache key: the leaves' values or ids
                parts = [(leaf, None) if isinstance(leaf, str) else (None, add(leaf))
                         for leaf in c._leaves()]
                step = ("cross", plan._caches.setdefault((form, c), {}), parts)
            else:
                step = ("lookup", plan._caches.setdefault((form, c), {}), c.key)
            slot[c] = len(self.steps)
            self.steps.append(step)
            return slot[c]

        d, lin = plan._dnn, plan._linear
        self.dnn = None if d is None else [  # (kind, start, width, table, id slot, key)
            (kind, start, width, table, None if kind == "numeric" else add(c),
             c.key if kind == "numeric" else None)
            for kind, c, start, width, table in d["blocks"]]
        self.width = None if d is None else d["width"]
        self.linear = None if lin is None else (
            [(add(c), start, size) for c, start, size in lin["cat"]], lin["cat_pos"],
            lin["numeric"], lin["n"], lin["table"], lin["bias_row"], lin["zero_row"])

    def ids(self, values):
        """[id per step] for the row, or None (a cache miss, a number not a float)."""
        for key in self.floats:
            if type(values[key]) is not float:
                return None
        ids = []
        for kind, a, b in self.steps:
            if kind == "bucket":
                ids.append(bisect_right(a, values[b]))  # NaN sorts last, as in NumPy
                continue
            if kind == "cross":
                i = a.get(tuple([values[k] if k is not None else ids[s] for k, s in b]))
            else:
                i = a.get(values[b])
            if i is None:
                return None
            ids.append(i)
        return ids

    def input_row(self, values, ids):
        """The DNN's [1, width] input, as RowPlan._input_layer builds it."""
        x = np.zeros((1, self.width), np.float32)
        row = x[0]
        for kind, start, width, table, s, key in self.dnn:
            if kind == "numeric":
                row[start] = values[key]
                continue
            i = ids[s]
            if kind == "onehot":
                if 0 <= i < width:
                    row[start + i] = 1.0
            else:  # the zero row at the end for an id out of range
                row[start:start + width] = table[i if 0 <= i < len(table) - 1 else -1]
        return x

    def wide(self, values, ids):
        """The linear logits [1, units], as RowPlan._wide sums them."""
        cat, cat_pos, numeric, n, table, bias_row, zero_row = self.linear
        gather = [zero_row] * (n + 1)
        gather[n] = bias_row
        for pos, (s, start, size) in zip(cat_pos, cat):
            i = ids[s]
            if 0 <= i < size:
                gather[pos] = start + i
        parts = table[gather]  # [columns + 1, units]
        for pos, key, w in numeric:
            parts[pos] = gemm(np.array([[values[key]]], np.float32), w)[0]
        return np.add.accumulate(parts, axis=0)[-1:]  # add_n's sequential sum, then the bias


# --- heads -------------------------------------------------------------------------------
def head_predictions(head):
    """fn(logits) -> the head's `predictions(logits)`, with the same NumPy
    operations as the head but without minitf's tensors (a few microseconds
    instead of ~30 for one example); for a head it does not know, the head's own
    method. `Runtime` checks that they agree exactly before using them."""
    vocab = getattr(head, "_label_vocabulary", None)
    kind = type(head)
    if kind is BinaryClassHead:
        return _binary(vocab)
    if kind is MultiClassHead:
        return _multi_class(head._n_classes, vocab)
    if kind is MultiLabelHead:
        return _multi_label(head._n_classes, vocab)
    if kind is PoissonRegressionHead:
        return lambda z: {"predictions": np.exp(z).astype(np.float32), "logits": z}
    if kind is LogisticRegressionHead:
        return lambda z: {"predictions": _sigmoid(z).astype(np.float32), "logits": z}
    if kind is RegressionHead and head._inverse_link_fn is None:
        return lambda z: {"predictions": z.astype(np.float32)}
    return lambda z: head.predictions(z)


class _AllClasses:
    """The all_class_ids and all_classes of n rows: tiled, or for one row copies of
    arrays made once (np.tile and the fancy index cost more than the head's math)."""

    def __init__(self, n_classes, vocab, dtype=np.int32):
        self.names = class_strings(np.arange(n_classes), vocab)
        self.ids = np.arange(n_classes, dtype=dtype)[None, :]
        self.one = self.names[self.ids]

    def __call__(self, n):
        if n == 1:
            return self.ids.copy(), self.one.copy()
        ids = np.tile(self.ids, (n, 1))
        return ids, self.names[ids]


def _binary(vocab):
    all_classes = _AllClasses(2, vocab)
    names = all_classes.names
    one_ids = [np.array([[i]], np.int64) for i in (0, 1)]  # class_ids of one row

    def predict(z):  # BinaryClassHead.predictions
        two = np.zeros((len(z), 2), z.dtype)  # concatenate([zeros_like(z), z], axis=1)
        two[:, 1:] = z
        e = np.exp(two - two.max(axis=1, keepdims=True))
        all_ids, all_names = all_classes(len(z))
        if len(z) == 1:  # argmax([0, x]): the first maximum, or the first NaN
            x = z[0, 0]
            ids = one_ids[1 if x > 0 or x != x else 0].copy()
            logistic = _sigmoid_one(x)
        else:
            ids = np.argmax(two, axis=1)[:, None].astype(np.int64)
            logistic = _sigmoid(z)
        return {"logits": z, "logistic": logistic,
                "probabilities": (e / e.sum(axis=1, keepdims=True)).astype(np.float32),
                "class_ids": ids, "classes": names[ids], "all_class_ids": all_ids,
                "all_classes": all_names}
    return predict


_F32_ONE = np.float32(1)


def _sigmoid_one(x):
    """_sigmoid of [[x]] (x a float32 scalar), by the same float32 operations on the
    scalar: the same ufunc loops on one element, without where's second branch.
    (The 1 is a float32: NumPy 1 computes a float32 scalar with a Python int in
    float64, which rounds differently.)"""
    e = np.exp(-abs(x))
    return np.array([[_F32_ONE / (_F32_ONE + e) if x >= 0 else e / (_F32_ONE + e)]],
                    np.float32)


def _multi_class(n_classes, vocab):
    all_classes = _AllClasses(n_classes, vocab)
    names = all_classes.names

    def predict(z):  # MultiClassHead.predictions
        ids = np.argmax(z, axis=1)[:, None].astype(np.int64)
        e = np.exp(z - z.max(axis=-1, keepdims=True))  # minitf's softmax
        all_ids, all_names = all_classes(len(z))
        return {"logits": z, "probabilities": e / e.sum(axis=-1, keepdims=True),
                "class_ids": ids, "classes": names[ids], "all_class_ids": all_ids,
                "all_classes": all_names}
    return predict


def _multi_label(n_classes, vocab):
    all_classes = _AllClasses(n_classes, vocab, np.int64)

    def predict(z):  # MultiLabelHead.predictions
        return {"logits": z, "probabilities": _sigmoid(z), "classes": all_classes(len(z))[1]}
    return predict
