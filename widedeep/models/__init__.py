"""The canned models' logits: `linear_logits` (wide) and `DNNModel` (deep)."""

from widedeep.models.dnn import DNNModel  # noqa: F401
from widedeep.models.linear import linear_logits  # noqa: F401
