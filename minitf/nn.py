"""`tf.nn`: activations, losses, dropout, normalization and sparse lookups."""

from minitf.ops.nn import (  # noqa: F401
    batch_norm,
    batch_normalization,
    bias_add,
    dropout,
    elu,
    gelu,
    l2_loss,
    leaky_relu,
    log_poisson_loss,
    log_softmax,
    moments,
    relu,
    relu6,
    selu,
    sigmoid,
    sigmoid_cross_entropy_with_logits,
    silu,
    softmax,
    softmax_cross_entropy_with_logits,
    softplus,
    softsign,
    sparse_softmax_cross_entropy_with_logits,
    swish,
    tanh,
)
from minitf.ops.sparse import (  # noqa: F401
    embedding_lookup,
    embedding_lookup_sparse,
    safe_embedding_lookup_sparse,
)
