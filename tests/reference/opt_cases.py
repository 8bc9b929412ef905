"""Optimizer cases shared by the TF fixture generator and the tests: (name,
class path, keyword arguments). The class path names TF's class; the tests
map it to ours."""

CASES = [
    ("adagrad", "legacy.Adagrad", dict(learning_rate=0.1)),
    ("adagrad_eps", "legacy.Adagrad", dict(learning_rate=0.3, initial_accumulator_value=0.01,
                                           epsilon=1e-3)),
    ("adagrad_decay", "legacy.Adagrad", dict(learning_rate=0.2, decay=0.1)),
    ("ftrl", "legacy.Ftrl", dict(learning_rate=0.2)),
    ("ftrl_l1l2", "legacy.Ftrl", dict(learning_rate=0.5, l1_regularization_strength=0.05,
                                      l2_regularization_strength=0.1)),
    ("ftrl_power", "legacy.Ftrl", dict(learning_rate=0.3, learning_rate_power=-0.7,
                                       initial_accumulator_value=0.5,
                                       l1_regularization_strength=0.01, beta=0.2)),
    ("ftrl_shrink", "legacy.Ftrl", dict(learning_rate=0.1, l2_shrinkage_regularization_strength=0.3,
                                        l2_regularization_strength=0.05)),
    ("adam", "legacy.Adam", dict(learning_rate=0.05)),
    ("adam_amsgrad", "legacy.Adam", dict(learning_rate=0.02, beta_1=0.8, beta_2=0.9,
                                         epsilon=1e-4, amsgrad=True)),
    ("rmsprop", "legacy.RMSprop", dict(learning_rate=0.01)),
    ("rmsprop_momentum", "legacy.RMSprop", dict(learning_rate=0.01, momentum=0.5)),
    ("rmsprop_centered", "legacy.RMSprop", dict(learning_rate=0.01, centered=True,
                                                momentum=0.3)),
    ("rmsprop_centered_nomom", "legacy.RMSprop", dict(learning_rate=0.01, centered=True)),
    ("sgd", "legacy.SGD", dict(learning_rate=0.1)),
    ("sgd_momentum", "legacy.SGD", dict(learning_rate=0.1, momentum=0.9)),
    ("sgd_nesterov", "legacy.SGD", dict(learning_rate=0.05, momentum=0.7, nesterov=True)),
    ("v1_gd", "v1.GradientDescentOptimizer", dict(learning_rate=0.1)),
    ("v1_adagrad", "v1.AdagradOptimizer", dict(learning_rate=0.1)),
    ("v1_proximal", "v1.ProximalAdagradOptimizer", dict(learning_rate=0.1)),
    ("v1_proximal_l1l2", "v1.ProximalAdagradOptimizer", dict(
        learning_rate=0.2, l1_regularization_strength=0.01, l2_regularization_strength=0.02)),
    ("v1_ftrl", "v1.FtrlOptimizer", dict(learning_rate=0.2, l1_regularization_strength=0.01)),
    ("v1_adam", "v1.AdamOptimizer", dict(learning_rate=0.05)),
]
STEPS, SHAPE = 20, (6, 3)
