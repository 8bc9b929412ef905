"""`tf.compat.v1` as far as the estimator world needs it: `compat.v1.train`."""

import types

from minitf import train as _train
from minitf.optimizers import v1 as _v1

v1 = types.SimpleNamespace(train=types.SimpleNamespace(
    exponential_decay=_train.exponential_decay,
    inverse_time_decay=_train.inverse_time_decay,
    polynomial_decay=_train.polynomial_decay,
    piecewise_constant=_train.piecewise_constant,
    cosine_decay=_train.cosine_decay,
    get_global_step=_train.get_global_step,
    get_or_create_global_step=_train.get_or_create_global_step,
    GradientDescentOptimizer=_v1.GradientDescentOptimizer,
    AdagradOptimizer=_v1.AdagradOptimizer,
    ProximalAdagradOptimizer=_v1.ProximalAdagradOptimizer,
    FtrlOptimizer=_v1.FtrlOptimizer,
    AdamOptimizer=_v1.AdamOptimizer,
))
