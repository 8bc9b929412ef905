"""`numpy_input_fn` and `pandas_input_fn` (tf.compat.v1.estimator.inputs).

Each returns an input_fn giving a `minitf.data.Dataset` of (features, labels)
batches; the queue arguments of TF's versions are accepted and ignored (there
are no queues).
"""

import numpy as np

from minitf.data import Dataset


def _check_shuffle(shuffle):
    if not isinstance(shuffle, bool):
        raise ValueError(f"shuffle must be provided and explicitly set as boolean (it is "
                         f"recommended to set it as True for training); got {shuffle}")


def numpy_input_fn(x, y=None, batch_size=128, num_epochs=1, shuffle=None, queue_capacity=1000,
                   num_threads=1):
    """An input_fn over a dict of arrays `x` (and labels `y`: an array or a dict).

    Args:
      batch_size: examples per batch (the last batch may be smaller).
      num_epochs: passes over the data; None repeats forever.
      shuffle: required, as in TF: whether to shuffle (a full shuffle per epoch;
        TF's queue shuffles within `queue_capacity`).
    """
    _check_shuffle(shuffle)
    if not isinstance(x, dict):
        raise TypeError(f"x must be a dict of arrays; got {type(x).__name__}")
    features = {k: np.asarray(v) for k, v in x.items()}
    labels = None
    if y is not None:
        if isinstance(y, dict):
            labels = {k: np.asarray(v) for k, v in y.items()}
            dup = sorted(set(labels) & set(features))
            if dup:
                raise ValueError(f"{dup} duplicate keys are found in both x and y: "
                                 f"{sorted(features)}, {sorted(labels)}")
        else:
            labels = np.asarray(y)
    lengths = {k: len(v) for k, v in features.items()}
    if labels is not None:
        lengths.update({"y": len(labels)} if not isinstance(labels, dict)
                       else {k: len(v) for k, v in labels.items()})
    if len(set(lengths.values())) > 1:
        raise ValueError(f"Length of tensors in x and y is mismatched. All elements in x and y "
                         f"must have the same length. Lengths: {lengths}")
    n = next(iter(lengths.values()), 0)

    def input_fn():
        ds = Dataset.from_tensor_slices(features if labels is None else (features, labels))
        if shuffle:
            ds = ds.shuffle(max(n, 1), reshuffle_each_iteration=True)
        return ds.repeat(num_epochs).batch(batch_size)
    return input_fn


def pandas_input_fn(x, y=None, batch_size=128, num_epochs=1, shuffle=None, queue_capacity=1000,
                    num_threads=1, target_column="target"):
    """`numpy_input_fn` over a pandas DataFrame `x` (and Series `y`)."""
    _check_shuffle(shuffle)
    features = {str(c): x[c].to_numpy() for c in x.columns}
    if y is not None:
        if target_column in features:
            raise ValueError(f"Cannot use name {target_column} for target column: DataFrame "
                             f"already has a column with that name: {list(x.columns)}")
        if len(y) != len(x) or not np.array_equal(np.asarray(x.index), np.asarray(y.index)):
            raise ValueError("Index for x and y are mismatched.")
        y = np.asarray(y)
    return numpy_input_fn(features, y, batch_size, num_epochs, shuffle)
