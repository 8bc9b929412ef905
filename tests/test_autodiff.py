"""GradientTape semantics, Tensor/Variable behaviour and dtype rules, as in TF."""

import numpy as np
import pytest

import minitf as tf


def test_gradient_returns_one_per_source_and_none_when_unconnected():
    a, b = tf.Variable(3.0), tf.Variable(4.0)
    c = tf.Variable(5.0)
    with tf.GradientTape() as tape:
        y = a * a * b  # dy/da = 2ab = 24, dy/db = a^2 = 9
    ga, gb, gc = tape.gradient(y, [a, b, c])
    assert float(ga) == 24.0 and float(gb) == 9.0 and gc is None


def test_unconnected_zero_and_structures():
    a, c = tf.Variable([1.0, 2.0]), tf.Variable([[0.0]])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(a * 2.0)
    g = tape.gradient(y, {"a": a, "c": c}, unconnected_gradients="zero")
    np.testing.assert_array_equal(g["a"].numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(g["c"].numpy(), [[0.0]])
    with pytest.raises(ValueError, match="unconnected_gradients"):
        with tf.GradientTape() as t2:
            y = a * 1.0
        t2.gradient(y, a, unconnected_gradients="nan")


def test_non_persistent_tape_is_single_use_persistent_is_not():
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = x * x
    assert float(tape.gradient(y, x)) == 4.0
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used"):
        tape.gradient(y, x)
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
        z = y * x
    assert float(tape.gradient(y, x)) == 4.0
    assert float(tape.gradient(z, x)) == 12.0  # 3 x^2


def test_constants_need_watch_and_trainable_flag_is_respected():
    x = tf.constant(3.0)
    frozen = tf.Variable(1.0, trainable=False)
    with tf.GradientTape() as tape:
        y = x * x * frozen
    assert tape.gradient(y, [x, frozen]) == [None, None]
    with tf.GradientTape() as tape:
        tape.watch([x, frozen])
        y = x * x * frozen
    gx, gf = tape.gradient(y, [x, frozen])
    assert float(gx) == 6.0 and float(gf) == 9.0


def test_watch_accessed_variables_false_and_watched_variables():
    v, w = tf.Variable(2.0), tf.Variable(5.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(w)
        y = v * w
    assert tape.gradient(y, [v, w])[0] is None
    with tf.GradientTape() as tape:
        y = v * w
    assert [x.name for x in tape.watched_variables()] == ["Variable:0", "Variable:0"]


def test_tapes_do_not_leak_state_between_each_other():
    x = tf.Variable(3.0)
    with tf.GradientTape() as outer:
        y = x * x
        with tf.GradientTape() as inner:
            z = x * 2.0
    assert float(inner.gradient(z, x)) == 2.0
    assert float(outer.gradient(y, x)) == 6.0
    # An op after both tapes closed is recorded nowhere.
    w = x * 5.0
    with tf.GradientTape() as fresh:
        pass
    assert fresh.gradient(w, x) is None


def test_stop_recording_and_stop_gradient():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x * x
        with tape.stop_recording():
            z = x * 100.0
        s = y + tf.stop_gradient(y * 3.0)
    assert tape.gradient(z, x) is None
    with tf.GradientTape() as tape:
        s = x * x + tf.stop_gradient(x * x * 3.0)
    assert float(tape.gradient(s, x)) == 6.0
    with pytest.raises(ValueError, match="re-enter"):
        with tape:
            with tape:
                pass


def test_output_gradients_and_multiple_targets():
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        y = x * 3.0
        z = x * x
    np.testing.assert_array_equal(tape.gradient(y, x, output_gradients=[2.0, -1.0]).numpy(),
                                  [6.0, -3.0])
    np.testing.assert_array_equal(tape.gradient([y, z], x).numpy(), [5.0, 7.0])


def test_gradient_wrt_intermediate_tensor_and_repeated_use():
    x = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        h = x * 3.0
        tape.watch(h)
        y = h * h + h  # dy/dh = 2h + 1 = 13
    assert float(tape.gradient(y, h)) == 13.0
    assert float(tape.gradient(y, x)) == 39.0


def test_sparse_gradient_stays_sparse_and_sums_with_dense():
    table = tf.Variable(np.arange(8.0, dtype=np.float32).reshape(4, 2))
    with tf.GradientTape(persistent=True) as tape:
        a = tf.reduce_sum(tf.gather(table, [0, 2]))
        b = tf.reduce_sum(tf.gather(table, [2]))
        c = tf.reduce_sum(table * 1.0)
        a_plus_b, a_plus_c = a + b, a + c
    g = tape.gradient(a_plus_b, table)
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(np.sort(g.indices), [0, 2, 2])  # concatenated, not summed
    np.testing.assert_array_equal(g.to_dense(), [[1, 1], [0, 0], [2, 2], [0, 0]])
    dense = tape.gradient(a_plus_c, table)
    assert isinstance(dense, tf.Tensor)
    np.testing.assert_array_equal(dense.numpy(), [[2, 2], [1, 1], [2, 2], [1, 1]])


def test_dtype_rules_follow_tf():
    assert tf.constant(1.0).dtype == np.float32
    assert tf.constant([1, 2]).dtype == np.int32
    assert tf.constant(np.array([1.0])).dtype == np.float64
    assert tf.constant(2**40).dtype == np.int64
    x = tf.constant(np.array([1.0, 2.0]))
    assert (x * 2).dtype == np.float64  # a Python number takes the tensor's dtype
    assert (tf.constant([1.0]) * 2).dtype == np.float32
    with pytest.raises(TypeError, match="add: both inputs must have the same dtype, got "
                                        "float32 and float64"):
        tf.constant([1.0]) + x
    with pytest.raises(ValueError, match="requested dtype int32 for a Tensor with dtype float32"):
        tf.convert_to_tensor(tf.constant(1.0), dtype=np.int32)


def test_gradient_dtype_is_the_sources_dtype():
    v = tf.Variable(np.ones((2, 2), np.float32))
    with tf.GradientTape() as tape:
        y = tf.reduce_mean(tf.square(v)) * 3.0
    assert tape.gradient(y, v).dtype == np.float32


def test_variable_assign_checks_shape_and_keeps_taped_values():
    v = tf.Variable([1.0, 2.0], name="w")
    assert v.name == "w:0" and v.trainable
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v * v)
    v.assign([10.0, 20.0])  # the tape keeps the value it read (TF's copy-on-write)
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [2.0, 4.0])
    v.assign_add([1.0, 1.0])
    v.assign_sub([0.5, 0.5])
    np.testing.assert_array_equal(v.numpy(), [10.5, 20.5])
    with pytest.raises(ValueError, match=r"Variable w: cannot assign a value of shape \(3,\) "
                                         r"to a variable of shape \(2,\)"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="expected"):
        tf.Variable(np.zeros(3), shape=(2,))


def test_tensor_protocol():
    t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.ndim == 2 and len(t) == 2
    np.testing.assert_array_equal(np.asarray(t), [[1, 2], [3, 4]])
    np.testing.assert_array_equal((np.ones(2, np.float32) + t).numpy(), [[2, 3], [4, 5]])
    np.testing.assert_array_equal((t > 2.0).numpy(), [[False, False], [True, True]])
    assert [r.shape for r in t] == [(2,), (2,)]
    with pytest.raises(TypeError):
        hash(t)
    assert "tf.Tensor" in repr(t) and "float32" in repr(t)
    with pytest.raises(TypeError, match="missing required argument"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=t)


def test_where_condition_has_no_gradient_and_cast_passes_float_gradients():
    x = tf.Variable(np.array([1.0, -1.0], np.float32))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.cast(tf.where(x > 0.0, x * 2.0, x * 3.0), np.float64))
    g = tape.gradient(y, x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g.numpy(), [2.0, 3.0])
    i = tf.Variable(np.array([1, 2], np.int32))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.cast(i, np.float32))
    assert tape.gradient(y, i) is None
