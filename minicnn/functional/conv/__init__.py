"""2-D convolution: ``conv2d`` by im2col + GEMM, with hand-written backward, and faster engines behind one seam.

Where things are:

    function.py     ``conv2d`` (torch's arguments, checked) and the ``Conv2d`` Function
    reference.py    THE REFERENCE: forward Y = im2col(x) . W + b, and db, dW = cols^T . dY,
                    dX = col2im(dY . W^T), with the math beside the code
    im2col.py       im2col / col2im on channels-last images (their adjointness is the backward pass)
    weight_layout.py  the weight and its groups as im2col's matrices
    geometry.py     ``ConvGeometry``: shapes, stride, padding, dilation, groups of one call
    engines/        faster ways to the same numbers, tried in the order of ``engines/__init__.py``:
                    depthwise, direct, winograd, chunks-of-images, few-channels

``Conv2d.forward`` asks ``CONV_ENGINES`` for an engine that applies and otherwise runs the reference;
``with minicnn.engines.reference_only():`` (or ``MINICNN_ENGINES=reference``) makes every call take the
reference, to study it or to check an engine against it.
"""
from .function import Conv2d, conv2d
from .im2col import col2im, im2col

__all__ = ["conv2d", "im2col", "col2im"]
