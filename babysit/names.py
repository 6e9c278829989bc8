"""The names of every choice the options accept, kept apart from the code that implements
them so that the command line can start without importing numpy (a test checks they agree)."""

ACTIVATIONS = ("relu", "leaky_relu", "prelu", "elu", "tanh", "sigmoid", "maxout")
INITS = ("zeros", "small", "xavier", "he")
LOSSES = ("softmax", "svm")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
SCHEDULES = ("constant", "step", "exp", "inv")
PREPROCESS = ("auto", "none", "center", "standardize", "mean-image", "per-channel", "image")
DTYPES = ("float64", "float32")
