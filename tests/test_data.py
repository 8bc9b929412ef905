"""minitf.data.Dataset and widedeep.inputs: batching, shuffling, repeat, take /
skip, map; the index fast path equal to the element path."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitf.data import Dataset
from widedeep.inputs import numpy_input_fn


def rows(ds):
    """All values of key 'a' in iteration order, batches flattened."""
    out = []
    for e in ds:
        e = e[0] if isinstance(e, tuple) else e
        out.extend(np.atleast_1d(e["a"]).tolist())
    return out


@given(st.integers(0, 40), st.integers(1, 9), st.booleans(), st.integers(0, 3),
       st.integers(-1, 12), st.integers(0, 12))
def test_index_path_equals_element_path(n, batch, drop, epochs, take, skip):
    data = {"a": np.arange(n), "b": np.arange(n) * 2.0}
    fast = Dataset.from_tensor_slices(data).repeat(epochs).skip(skip).take(take).batch(batch,
                                                                                       drop)
    # map(identity) forces the element-by-element path
    slow = (Dataset.from_tensor_slices(data).map(lambda e: e).repeat(epochs).skip(skip)
            .take(take).batch(batch, drop))
    a, b = list(fast), list(slow)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x["a"], y["a"])
        np.testing.assert_array_equal(x["b"], y["b"])
    want = (list(range(n)) * epochs)[skip:]
    want = want[:take] if take >= 0 else want
    if drop:
        want = want[:len(want) // batch * batch]
    assert rows(fast) == want


@given(st.integers(1, 60), st.integers(1, 70), st.integers(0, 2**31))
def test_shuffle_is_a_permutation_and_seeded(n, buffer, seed):
    ds = Dataset.from_tensor_slices({"a": np.arange(n)}).shuffle(buffer, seed=seed)
    first = rows(ds)
    assert sorted(first) == list(range(n))
    again = Dataset.from_tensor_slices({"a": np.arange(n)}).shuffle(buffer, seed=seed)
    assert rows(again) == first


def test_shuffle_buffer_limits_how_far_an_element_moves():
    # With a buffer of 4, the element at output t came from input < t + 4.
    out = rows(Dataset.from_tensor_slices({"a": np.arange(200)}).shuffle(4, seed=3))
    assert all(v < t + 4 for t, v in enumerate(out))
    assert out != list(range(200))


def test_reshuffle_each_iteration():
    ds = Dataset.from_tensor_slices({"a": np.arange(50)}).shuffle(50, seed=1)
    assert rows(ds) != rows(ds)
    fixed = Dataset.from_tensor_slices({"a": np.arange(50)}).shuffle(
        50, seed=1, reshuffle_each_iteration=False)
    assert rows(fixed) == rows(fixed)
    per_epoch = rows(Dataset.from_tensor_slices({"a": np.arange(10)}).shuffle(10, seed=2)
                     .repeat(2))
    assert sorted(per_epoch[:10]) == sorted(per_epoch[10:]) == list(range(10))
    assert per_epoch[:10] != per_epoch[10:]


def test_batches_tuples_and_nested():
    ds = Dataset.from_tensor_slices(({"a": np.arange(5), "s": np.array(list("abcde"))},
                                     np.arange(5) % 2)).batch(2)
    (f, y), *_ = list(ds)
    assert f["s"].tolist() == ["a", "b"] and y.tolist() == [0, 1]
    with pytest.raises(ValueError, match="same first dimension"):
        Dataset.from_tensor_slices({"a": np.arange(3), "b": np.arange(4)})
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        Dataset.range(3).batch(0)


def test_numpy_input_fn():
    x = {"a": np.arange(10), "b": np.arange(10) * 1.5}
    y = np.arange(10) % 3
    batches = list(numpy_input_fn(x, y, batch_size=4, shuffle=False)())
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(batches[0][0]["b"], [0, 1.5, 3, 4.5])
    two = list(numpy_input_fn(x, y, batch_size=10, num_epochs=2, shuffle=True)())
    assert len(two) == 2 and sorted(two[0][0]["a"]) == list(range(10))
    np.testing.assert_array_equal(two[0][1], two[0][0]["a"] % 3)  # rows stay together
    with pytest.raises(ValueError, match="shuffle must be provided"):
        numpy_input_fn(x, y)
    with pytest.raises(ValueError, match="Length of tensors in x and y is mismatched"):
        numpy_input_fn(x, y[:3], shuffle=False)
    with pytest.raises(ValueError, match="duplicate keys"):
        numpy_input_fn(x, {"a": y}, shuffle=False)
