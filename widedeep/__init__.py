"""widedeep: TensorFlow's wide & deep estimator on minitf (NumPy + Numba).

    import widedeep
    wide, deep = widedeep.datasets.census_columns()
    est = widedeep.DNNLinearCombinedClassifier(linear_feature_columns=wide,
                                               dnn_feature_columns=deep,
                                               dnn_hidden_units=[100, 75, 50, 25])

or, for TF code with its import line changed, ``import widedeep.tfcompat as tf``.
Submodules load on first use, so ``import widedeep`` itself is instant.
"""

import importlib

_CANNED = ("DNNClassifier", "DNNEstimator", "DNNLinearCombinedClassifier",
           "DNNLinearCombinedEstimator", "DNNLinearCombinedRegressor", "DNNRegressor",
           "LinearClassifier", "LinearEstimator", "LinearRegressor")
_SUBMODULES = ("canned", "checkpoint", "datasets", "estimator", "export", "feature_column",
               "heads", "inputs", "metrics", "saved_model", "tf_checkpoint", "tfcompat")

__all__ = list(_CANNED) + list(_SUBMODULES)


def __getattr__(name):
    if name in _CANNED:
        return getattr(importlib.import_module("widedeep.canned"), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"widedeep.{name}")
    raise AttributeError(f"module 'widedeep' has no attribute {name!r}")
