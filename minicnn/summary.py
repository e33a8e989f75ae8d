"""(being written)"""


def summary(model, input_shape, **kwargs):
    raise NotImplementedError
