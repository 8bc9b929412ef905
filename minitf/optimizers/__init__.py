"""Optimizers that update exactly as TF 2.15's (see optimizer.py).

    opt = minitf.optimizers.Ftrl(learning_rate=0.1, l1_regularization_strength=0.01)
    opt.apply_gradients(zip(grads, variables))

`get(identifier, learning_rate)` turns what a canned estimator accepts (an
instance, a name, a callable returning one) into an instance.
"""

import inspect

from minitf.optimizers.adagrad import Adagrad
from minitf.optimizers.adam import Adam
from minitf.optimizers.ftrl import Ftrl
from minitf.optimizers.optimizer import Optimizer
from minitf.optimizers.rmsprop import RMSprop
from minitf.optimizers.sgd import SGD
from minitf.optimizers.v1 import (
    AdagradOptimizer,
    AdamOptimizer,
    FtrlOptimizer,
    GradientDescentOptimizer,
    ProximalAdagradOptimizer,
)

__all__ = ["Adagrad", "Adam", "Ftrl", "RMSprop", "SGD", "Optimizer", "get", "legacy",
           "AdagradOptimizer", "AdamOptimizer", "FtrlOptimizer", "GradientDescentOptimizer",
           "ProximalAdagradOptimizer"]

# The names tf.estimator accepts, and what each gives.
_BY_NAME = {"Adagrad": Adagrad, "Adam": Adam, "Ftrl": Ftrl, "RMSProp": RMSprop, "SGD": SGD}


class legacy:  # noqa: N801  (tf.keras.optimizers.legacy.*: the same classes)
    Adagrad, Adam, Ftrl, RMSprop, SGD = Adagrad, Adam, Ftrl, RMSprop, SGD


def get(identifier, learning_rate=None):
    """An optimizer instance from an instance, a name ('Adagrad', 'Adam', 'Ftrl',
    'RMSProp', 'SGD'; with `learning_rate`), or a zero-argument callable that
    returns an instance (called now)."""
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier)
        if cls is None:  # TF also takes the class names' other spellings
            cls = {k.lower(): v for k, v in _BY_NAME.items()}.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unsupported optimizer name: {identifier}. Supported names are: "
                             f"{tuple(sorted(_BY_NAME))}")
        return cls() if learning_rate is None else cls(learning_rate=learning_rate)
    if callable(identifier) and not isinstance(identifier, Optimizer) and not inspect.isclass(
            identifier):
        identifier = identifier()
    if not isinstance(identifier, Optimizer):
        raise ValueError(f"The given object is not an Optimizer instance. Given: {identifier}")
    return identifier
