"""Utilities in torch.utils's places (``minicnn.utils.tensorboard``, ...)."""
