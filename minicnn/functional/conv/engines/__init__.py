"""conv2d's engines: faster ways to the reference's numbers, in the order ``CONV_ENGINES`` tries them.

The first engine whose ``applies(geometry, x)`` holds computes the convolution; when none does (or
under ``minicnn.engines.reference_only()``) the reference im2col + GEMM of ``../reference.py`` runs.

1. depthwise      one input channel per group: loops over the KH*KW kernel positions (numba on the CPU)
                  instead of C products of inner size KH*KW. Any device.
2. direct         CPU, stride 1, ungrouped, kernels above 1x1, at most 2400 multiply-adds per output pixel
                  (LeNet's layers, a CIFAR ResNet's stem): shifted windows of the padded planes, no im2col. Before the
                  chunked engines, because on these layers im2col is mostly data movement.
3. winograd       CPU, 3x3 stride-1 padding-1 layers of 16+ channels large enough to split: 16 multiplies
                  per 2x2 output tile instead of 36. Before ``chunks-of-images``, which would also take them.
4. chunks-of-images  CPU, every other convolution large enough (2^24 flops, 2+ images): im2col + GEMM a
                  few images at a time, so cols stays in cache, one chunk per core.
5. few-channels   1-3 input channels left over (small batches, GPUs): cols built transposed.

Each engine is tested against the reference on shapes it accepts (``tests/test_conv_engines.py``).
"""
from ....engines import EngineTable
from .depthwise import Depthwise
from .direct import Direct
from .few_channels import FewChannels
from .split import ChunksOfImages
from .winograd import Winograd

CONV_ENGINES = EngineTable("conv2d", [Depthwise(), Direct(), Winograd(), ChunksOfImages(), FewChannels()])
