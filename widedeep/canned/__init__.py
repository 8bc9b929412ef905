"""Canned estimators: wide & deep (`DNNLinearCombined*`), `Linear*`, `DNN*`."""

from widedeep.canned.estimators import (  # noqa: F401
    DNNClassifier,
    DNNEstimator,
    DNNLinearCombinedClassifier,
    DNNLinearCombinedEstimator,
    DNNLinearCombinedRegressor,
    DNNRegressor,
    LinearClassifier,
    LinearEstimator,
    LinearRegressor,
)
