"""Faster ways to compute conv2d than the whole-batch im2col product."""
