"""A TensorFlow-shaped namespace, so tf.estimator code runs with one line changed::

    import widedeep.tfcompat as tf     # was: import tensorflow as tf

    est = tf.estimator.DNNLinearCombinedClassifier(
        linear_feature_columns=[tf.feature_column.crossed_column(["a", "b"], 1000)],
        dnn_feature_columns=[tf.feature_column.numeric_column("x")],
        dnn_hidden_units=[100, 50],
        dnn_optimizer=lambda: tf.keras.optimizers.Adam(
            learning_rate=tf.compat.v1.train.exponential_decay(
                0.1, tf.compat.v1.train.get_global_step(), 10000, 0.96)))

What it holds: `estimator` (Estimator, the canned estimators, heads, RunConfig,
hooks, WarmStartSettings, ModeKeys, EstimatorSpec, export receivers once they
exist), `feature_column`, `keras.optimizers` (+ `.legacy`, `.schedules`),
`compat.v1.train` and `compat.v1.estimator.inputs`, `data`, `nn`, `train`, and
every other name of `minitf` (`tf.constant`, `tf.matmul`, `tf.GradientTape`, ...).

`tf.keras.optimizers.X` is minitf's X, which updates as TF's
`tf.keras.optimizers.legacy.X` (the kind tf.estimator uses).
"""

import types

import minitf as _minitf
import widedeep.canned as _canned
import widedeep.estimator as _estimator
import widedeep.feature_column as feature_column  # noqa: F401
import widedeep.heads as _heads
import widedeep.inputs as _inputs
from minitf import data, nn, train  # noqa: F401
from minitf import optimizers as _optimizers
from minitf import schedules as _schedules

estimator = types.SimpleNamespace(
    **{k: getattr(_estimator, k) for k in dir(_estimator) if k[0].isupper()},
    **{k: getattr(_canned, k) for k in dir(_canned) if k[0].isupper()},
    **{k: getattr(_heads, k) for k in ("BinaryClassHead", "MultiClassHead", "MultiLabelHead",
                                       "RegressionHead", "PoissonRegressionHead",
                                       "LogisticRegressionHead", "Head")},
    inputs=types.SimpleNamespace(numpy_input_fn=_inputs.numpy_input_fn,
                                 pandas_input_fn=_inputs.pandas_input_fn),
)

keras = types.SimpleNamespace(optimizers=types.SimpleNamespace(
    Adagrad=_optimizers.Adagrad, Adam=_optimizers.Adam, Ftrl=_optimizers.Ftrl,
    RMSprop=_optimizers.RMSprop, SGD=_optimizers.SGD, Optimizer=_optimizers.Optimizer,
    legacy=_optimizers.legacy, schedules=_schedules, get=_optimizers.get))

compat = types.SimpleNamespace(v1=types.SimpleNamespace(
    train=_minitf.compat.v1.train,
    estimator=types.SimpleNamespace(inputs=estimator.inputs)))


def __getattr__(name):  # everything else: minitf's
    try:
        return getattr(_minitf, name)
    except AttributeError:
        raise AttributeError(f"widedeep.tfcompat has no attribute {name!r} (neither has "
                             f"minitf)") from None
