"""``minicnn.nn.parallel.DistributedDataParallel``: torch's spelling of ``minicnn.distributed``'s wrapper."""
from ..distributed.ddp import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
