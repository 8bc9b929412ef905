"""The wide part: TF's canned linear model (`LinearModel` under 'linear/linear_model')."""

from widedeep.feature_column import LinearModel


def linear_logits(features, feature_columns, units, sparse_combiner="sum", scope="linear"):
    """(logits [batch, units], the model) of the canned linear part:
    ``sum of each column's weighted sum + bias``."""
    model = LinearModel(feature_columns, units=units, sparse_combiner=sparse_combiner,
                        name="linear_model", scope=scope)
    return model(features), model
