"""The two layers that turn columns into model inputs, with TF's variable names.

`LinearModel` (the wide part): one weight variable per column plus a bias,

    logits = sum_c weighted_sum_c + bias_weights
    weighted_sum_c = safe_embedding_lookup_sparse(weights_c, ids_c, id_weights_c,
                                                  combiner=sparse_combiner)   (categorical)
                   = reshape(dense_c, [batch, -1]) @ weights_c                (dense)

`DenseFeatures` (the DNN's input layer): the dense block of every column,
flattened to [batch, -1] and concatenated, columns sorted by name. Embedding
columns look up tables this layer creates.

Both sort their columns by name, as TF does, and create their variables when
built, through `widedeep.variables.get_variable` (so an estimator's open
variable store hands back the same ones on every batch), named as in a TF 2.15
estimator checkpoint (the default scopes are the canned estimators'). A
`TransformCache` may be passed instead of a features dict so both layers share
one transform of the batch.
"""

import numpy as np

import minitf as tf
from minitf.ops.sparse import rows_add_n
from widedeep.feature_column.columns import (
    BucketizedColumn,
    CategoricalColumn,
    DenseColumn,
    EmbeddingColumn,
    SharedEmbeddingColumn,
    TransformCache,
    default_embedding_initializer,
)
from widedeep.variables import get_variable


def _sorted_unique(feature_columns, what):
    cols = list(feature_columns or [])
    for c in cols:
        if not isinstance(c, (CategoricalColumn, DenseColumn)):
            raise ValueError(f"{what}: expected feature columns, got {c!r:.200}")
    names = [c.name for c in cols]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{what}: duplicate feature column names {dup}; each column must "
                         f"appear once")
    return sorted(cols, key=lambda c: c.name)


def _cache(features):
    return features if isinstance(features, TransformCache) else TransformCache(features)


def _initial(init, shape, name):
    value = np.asarray(init(shape, dtype="float32") if _takes_dtype(init) else init(shape))
    if value.shape != tuple(shape):
        raise ValueError(f"initializer of '{name}' returned shape {value.shape}, expected "
                         f"{tuple(shape)}")
    return value.astype(np.float32, copy=False)


def _takes_dtype(init):
    import inspect
    try:
        return "dtype" in inspect.signature(init).parameters
    except (TypeError, ValueError):
        return False


class LinearModel:
    """The linear part of a wide & deep model.

    Args:
      feature_columns: columns (categorical ones get one weight per bucket).
      units: logits per example.
      sparse_combiner: how a row's several ids combine: 'sum' (TF's default),
        'mean' or 'sqrtn'.
      name, scope: the variables are '<scope>/<name>/<column>/weights' and
        '<scope>/<name>/bias_weights'; zeros initially.
    """

    def __init__(self, feature_columns, units=1, sparse_combiner="sum", name="linear_model",
                 scope="linear", trainable=True):
        if sparse_combiner not in ("mean", "sqrtn", "sum"):
            raise ValueError(f"LinearModel: sparse_combiner must be one of 'mean', 'sqrtn' or "
                             f"'sum', got {sparse_combiner!r}")
        self.columns = _sorted_unique(feature_columns, "LinearModel")
        if not self.columns:
            raise ValueError("LinearModel: feature_columns must not be empty")
        self.units, self.sparse_combiner = int(units), sparse_combiner
        prefix = f"{scope}/{name}" if scope else name
        self.weights = {}
        for c in self.columns:
            rows = (c.num_buckets if isinstance(c, CategoricalColumn)
                    else int(np.prod(c.variable_shape)))
            self.weights[c] = get_variable(f"{prefix}/{c.name}/weights", (rows, self.units),
                                           trainable=trainable)
        self.bias = get_variable(f"{prefix}/bias_weights", (self.units,), trainable=trainable)

    @property
    def variables(self):
        return list(self.weights.values()) + [self.bias]

    def __call__(self, features):
        cache = _cache(features)
        sums = []
        for c in self.columns:
            w = self.weights[c]
            if isinstance(c, CategoricalColumn):
                # One valid id per row: the lookup (any combiner) is that row of w.
                single = cache.single_ids(c)
                if single is not None:
                    sums.append((w, single))
                    continue
                ids, id_weights = c.id_weight_pair(cache)
                sums.append(tf.nn.safe_embedding_lookup_sparse(
                    w, ids, id_weights, combiner=self.sparse_combiner))
            else:
                x = c.dense(cache, self)
                sums.append(tf.matmul(tf.reshape(x, [len(x), -1]), w))
        batches = {len(s[1]) if isinstance(s, tuple) else int(s.shape[0]) for s in sums}
        if len(batches) > 1:
            raise ValueError(f"LinearModel: the features have different batch sizes: "
                             f"{sorted(batches)}")
        # add_n of the columns' sums, then the bias, as TF's linear model adds them
        return rows_add_n(sums, self.bias)


class DenseFeatures:
    """The DNN's input layer: [batch, sum of the columns' flattened sizes].

    Args:
      feature_columns: dense columns (numeric, bucketized, indicator, embedding,
        shared embedding); wrap a categorical column in `indicator_column` or
        `embedding_column`.
      name, scope: embedding tables are '<scope>/<name>/<column>_embedding/
        embedding_weights'; a shared table is named by its collection.
    """

    def __init__(self, feature_columns, name="input_layer",
                 scope="dnn/input_from_feature_columns", trainable=True):
        self.columns = _sorted_unique(feature_columns, "DenseFeatures")
        if not self.columns:
            raise ValueError("DenseFeatures: feature_columns must not be empty")
        for c in self.columns:
            if not isinstance(c, DenseColumn):
                raise ValueError(
                    f"DenseFeatures: column '{c.name}' is categorical; wrap it in "
                    f"embedding_column or indicator_column to use it in the DNN")
        prefix = f"{scope}/{name}" if scope else name
        self.tables = {}
        shared = {}
        for c in self.columns:
            if isinstance(c, SharedEmbeddingColumn):
                key = c.shared_embedding_collection_name
                if key not in shared:
                    shared[key] = self._table(c, key, trainable)
                elif tuple(shared[key].shape) != c.table_shape():
                    raise ValueError(f"shared embedding '{key}': columns disagree on its "
                                     f"shape: {shared[key].shape} vs {c.table_shape()}")
                self.tables[c] = shared[key]
            elif isinstance(c, EmbeddingColumn):
                self.tables[c] = self._table(c, f"{prefix}/{c.name}/embedding_weights",
                                             trainable)

    @staticmethod
    def _table(c, name, trainable):
        init = c.initializer or default_embedding_initializer(c.dimension)
        return get_variable(name, c.table_shape(),
                            initializer=lambda shape, dtype: _initial(init, shape, name),
                            trainable=trainable and c.trainable)

    @property
    def variables(self):
        seen, out = set(), []
        for v in self.tables.values():
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        return out

    def embedding_table(self, column):
        return self.tables[column]

    def __call__(self, features):
        cache = _cache(features)
        blocks, sizes = [], {}
        for c in self.columns:
            x = c.dense(cache, self)
            batch = sizes[c.name] = x.shape[0]
            if isinstance(c, BucketizedColumn) or not isinstance(x, tf.Tensor):
                x = np.asarray(x).reshape(batch, -1)  # a constant block
            else:
                x = tf.reshape(x, [batch, -1])
            blocks.append(x)
        if len(set(sizes.values())) > 1:
            raise ValueError(f"DenseFeatures: the features have different batch sizes: "
                             f"{sizes}")
        # Neighbouring constant blocks are joined in NumPy: only the embeddings
        # need the differentiable concat.
        merged = []
        for b in blocks:
            if merged and not isinstance(b, tf.Tensor) and not isinstance(merged[-1],
                                                                         tf.Tensor):
                merged[-1] = np.concatenate([merged[-1], b], axis=1)
            else:
                merged.append(b)
        merged = [b if isinstance(b, tf.Tensor) else tf.constant(b) for b in merged]
        return tf.concat(merged, axis=1) if len(merged) > 1 else merged[0]
