"""The deep part: TF's canned DNN, variable for variable.

    net = DenseFeatures(columns)(features)                  # dnn/input_from_feature_columns
    for i, units in enumerate(hidden_units):                # dnn/hiddenlayer_i/{kernel,bias}
        net = activation(net @ kernel_i + bias_i)
        if dropout and training: net = dropout(net, rate)   # inverted: kept values / (1 - rate)
        if batch_norm: net = batch_norm(net, training)      # dnn/hiddenlayer_i/batchnorm_i/...
    logits = net @ logits_kernel + logits_bias              # dnn/logits/{kernel,bias}

Kernels start Glorot-uniform, biases zero, as tf.keras Dense in the canned DNN.
"""

import math

import minitf as tf
from minitf import initializers
from widedeep.feature_column import DenseFeatures
from widedeep.variables import get_variable


def activation(fn):
    """The activation function for `dnn_activation_fn`: None is relu, a name is
    minitf.nn's function of that name, a callable is itself."""
    if fn is None:
        return tf.nn.relu
    if isinstance(fn, str):
        f = getattr(tf.nn, fn, None)
        if f is None:
            raise ValueError(f"dnn_activation_fn: unknown activation {fn!r}")
        return f
    if not callable(fn):
        raise ValueError(f"dnn_activation_fn must be callable, got {fn!r}")
    return fn


class DNNModel:
    """Builds (through the open variable store) and runs the canned DNN.

    Args:
      units: logits per example (the head's logits_dimension).
      hidden_units: e.g. [100, 75, 50, 25].
      feature_columns: dense columns for the input layer.
      activation_fn: applied after each hidden layer (default relu).
      dropout: probability of dropping a unit while training, or None.
      batch_norm: batch normalization after each hidden layer (momentum 0.999).
    """

    def __init__(self, units, hidden_units, feature_columns, activation_fn=None, dropout=None,
                 batch_norm=False, scope="dnn"):
        if not hidden_units:
            raise ValueError("dnn_hidden_units must be defined when dnn_feature_columns is "
                             "specified.")
        if any(int(h) < 1 for h in hidden_units):
            raise ValueError(f"dnn_hidden_units must be positive, got {list(hidden_units)}")
        if dropout is not None and not 0 <= dropout < 1:
            raise ValueError(f"dnn_dropout must be in [0, 1), got {dropout}")
        self.units, self.hidden_units = int(units), [int(h) for h in hidden_units]
        self.activation = activation(activation_fn)
        self.dropout, self.batch_norm, self.scope = dropout, bool(batch_norm), scope
        self.input_layer = DenseFeatures(feature_columns, name="input_layer",
                                         scope=f"{scope}/input_from_feature_columns")

    def _layer(self, name, inputs, units):
        """(kernel, bias) of layer `name`, made (or restored) on first use."""
        kernel = get_variable(f"{self.scope}/{name}/kernel", (int(inputs), units),
                              initializer=initializers.GlorotUniform())
        return kernel, get_variable(f"{self.scope}/{name}/bias", (units,))

    def _dense(self, net, name, units):
        kernel, bias = self._layer(name, net.shape[1], units)
        return tf.nn.bias_add(tf.matmul(net, kernel), bias)

    def build(self):
        """[(kernel, bias)] of the hidden and logits layers, made now if they
        are not yet, in the order (and so with the initial values) the first
        call makes them, without a batch: the input layer's width is its
        columns' sizes summed. (Not the batch-norm variables, which only a call
        makes.)"""
        width, layers = sum(math.prod(c.variable_shape) for c in self.input_layer.columns), []
        for i, units in enumerate(self.hidden_units):
            layers.append(self._layer(f"hiddenlayer_{i}", width, units))
            width = units
        layers.append(self._layer("logits", width, self.units))
        return layers

    def __call__(self, features, training=False):
        net = self.input_layer(features)
        for i, units in enumerate(self.hidden_units):
            net = self.activation(self._dense(net, f"hiddenlayer_{i}", units))
            if self.dropout is not None and training:
                net = tf.nn.dropout(net, rate=self.dropout)
            if self.batch_norm:
                net = self._batch_norm(net, i, units, training)
        return self._dense(net, "logits", self.units)

    def _batch_norm(self, net, i, units, training):
        name = f"{self.scope}/hiddenlayer_{i}/batchnorm_{i}"
        gamma = get_variable(f"{name}/gamma", (units,), initializer=initializers.Ones())
        beta = get_variable(f"{name}/beta", (units,))
        mean = get_variable(f"{name}/moving_mean", (units,), trainable=False)
        var = get_variable(f"{name}/moving_variance", (units,),
                           initializer=initializers.Ones(), trainable=False)
        return tf.nn.batch_norm(net, gamma, beta, mean, var, training, momentum=0.999,
                                epsilon=1e-3)

    @property
    def variables(self):
        from widedeep.variables import current_store
        store = current_store()
        if store is None:
            return []
        return [v for n, v in store.variables.items() if n.startswith(self.scope + "/")]
