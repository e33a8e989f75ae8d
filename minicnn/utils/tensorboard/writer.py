"""The writer: each ``add_*`` call becomes one Event (a Summary, or a GraphDef) in an event file.

    writer = SummaryWriter("runs/lenet")
    writer.add_scalar("loss/train", 0.31, global_step=1)
    writer.add_histogram("weights/conv1.weight", model.conv1.weight, 1)
    writer.add_image("input", images[0], 1)          # (C, H, W), floats in [0, 1] or uint8
    writer.add_graph(model, images)                  # the autograd graph of one forward
    writer.close()
"""
from __future__ import annotations

import io
import os
import socket
import time
from datetime import datetime

import numpy as np
from tensorboard.compat.proto import event_pb2, graph_pb2, node_def_pb2, summary_pb2, versions_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from ... import backend
from ...autograd import Tensor


def _numpy(values) -> np.ndarray:
    if isinstance(values, Tensor):
        return backend.to_host(values.array)
    if hasattr(values, "detach") and hasattr(values, "cpu"):  # a torch tensor
        return values.detach().cpu().numpy()
    if hasattr(values, "shape") and hasattr(values, "dtype") and not isinstance(values, np.ndarray):
        return backend.to_host(values)
    return np.asarray(values)


class SummaryWriter:
    """Writes TensorBoard event files into ``log_dir`` (default ``runs/DATE_TIME_HOST{comment}``)."""

    def __init__(self, log_dir=None, comment: str = "", purge_step=None, max_queue: int = 10,
                 flush_secs: int = 120, filename_suffix: str = ""):
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self._writer = EventFileWriter(self.log_dir, max_queue, flush_secs, filename_suffix)
        if purge_step is not None:  # TensorBoard drops what an earlier run logged from this step on
            self._writer.add_event(event_pb2.Event(step=purge_step, file_version="brain.Event:2",
                                                   session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)))

    def get_logdir(self) -> str:
        return self.log_dir

    def _add(self, event: event_pb2.Event, global_step, walltime) -> None:
        event.wall_time = time.time() if walltime is None else walltime
        if global_step is not None:
            event.step = int(global_step)
        self._writer.add_event(event)

    def _summary(self, value: summary_pb2.Summary.Value, global_step, walltime) -> None:
        self._add(event_pb2.Event(summary=summary_pb2.Summary(value=[value])), global_step, walltime)

    # -- what can be logged ------------------------------------------------------------------------
    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None) -> None:
        value = float(_numpy(scalar_value).reshape(()))
        self._summary(summary_pb2.Summary.Value(tag=tag, simple_value=value), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None, walltime=None) -> None:
        """Several curves in one chart: each goes to its own run folder ``log_dir/main_tag_tag``, as torch's."""
        for tag, value in tag_scalar_dict.items():
            folder = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{tag}")
            writers = self.__dict__.setdefault("_scalar_writers", {})
            if folder not in writers:
                writers[folder] = SummaryWriter(folder)
            writers[folder].add_scalar(main_tag, value, global_step, walltime)

    def add_histogram(self, tag: str, values, global_step=None, bins="auto", walltime=None) -> None:
        """A histogram of ``values``; ``bins`` is anything ``numpy.histogram`` takes ("tensorflow" = "auto")."""
        array = _numpy(values).astype(np.float64).ravel()
        if array.size == 0:
            raise ValueError(f"add_histogram: {tag!r} has no values")
        counts, edges = np.histogram(array, bins="auto" if bins == "tensorflow" else bins)
        histogram = summary_pb2.HistogramProto(
            min=float(array.min()), max=float(array.max()), num=int(array.size), sum=float(array.sum()),
            sum_squares=float(np.dot(array, array)), bucket_limit=edges[1:].tolist(), bucket=counts.tolist())
        self._summary(summary_pb2.Summary.Value(tag=tag, histo=histogram), global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "CHW") -> None:
        """One image, (C, H, W) by default (``dataformats`` "HWC" or "HW" otherwise), with C 1, 3 or 4;
        floats are taken to be in [0, 1], uint8 in [0, 255]."""
        from PIL import Image

        image = _numpy(img_tensor)
        if image.ndim != len(dataformats):
            raise ValueError(f"add_image: {tag!r} has shape {image.shape}, which does not fit dataformats {dataformats!r}")
        if dataformats == "HW":
            image = image[:, :, None]
        elif dataformats == "CHW":
            image = image.transpose(1, 2, 0)
        elif dataformats != "HWC":
            raise ValueError(f"add_image: dataformats must be CHW, HWC or HW, got {dataformats!r}")
        if image.shape[2] not in (1, 3, 4):
            raise ValueError(f"add_image: {tag!r} has {image.shape[2]} channels; expected 1, 3 or 4")
        if image.dtype != np.uint8:
            image = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image).save(buffer, format="PNG")
        picture = summary_pb2.Summary.Image(height=image.shape[0], width=image.shape[1], colorspace=image.shape[2],
                                            encoded_image_string=buffer.getvalue())
        self._summary(summary_pb2.Summary.Value(tag=tag, image=picture), global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        from tensorboard.compat.proto import tensor_pb2, tensor_shape_pb2, types_pb2

        plugin = summary_pb2.SummaryMetadata.PluginData(plugin_name="text")
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[text_string.encode()],
                                        tensor_shape=tensor_shape_pb2.TensorShapeProto(
                                            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)]))
        self._summary(summary_pb2.Summary.Value(tag=tag, metadata=summary_pb2.SummaryMetadata(plugin_data=plugin),
                                                tensor=tensor), global_step, walltime)

    def add_graph(self, model, input_to_model, verbose: bool = False) -> None:
        """The autograd graph of ``model(input_to_model)`` (one forward, eval mode) for the Graphs tab:
        a node per Function (named by op, with its output shape) and per parameter (by module path)."""
        from ...viz.graph import walk

        inputs = input_to_model if isinstance(input_to_model, Tensor) else Tensor(_numpy(input_to_model))
        was_training = model.training
        model.eval()
        try:
            output = model(inputs)
        finally:
            model.train(was_training)
        nodes, shapes, leaves, edges = walk(output)
        names = {id(tensor): name.replace(".", "/") for name, tensor in model.named_parameters()}
        counts, node_names = {}, {}
        for key, node in nodes.items():
            op = type(node).__name__.lstrip("_")
            counts[op] = counts.get(op, 0) + 1
            node_names[key] = f"{op}_{counts[op]}"
        for key in leaves:
            node_names[key] = names.get(key, f"input_{len(node_names)}")
        inputs_of = {}
        for producer, consumer in edges:
            inputs_of.setdefault(id(consumer), []).append(node_names[id(producer)])
        graph = graph_pb2.GraphDef(versions=versions_pb2.VersionDef(producer=22))
        for key, leaf in leaves.items():
            graph.node.append(node_def_pb2.NodeDef(name=node_names[key], op="Parameter",
                                                   attr={"shape": _shape_attr(leaf.shape)}))
        for key, node in nodes.items():
            graph.node.append(node_def_pb2.NodeDef(name=node_names[key], op=type(node).__name__.lstrip("_"),
                                                   input=inputs_of.get(key, []),
                                                   attr={"_output_shapes": _shape_attr(shapes[key])}))
        self._add(event_pb2.Event(graph_def=graph.SerializeToString()), None, None)

    # -- the file --------------------------------------------------------------------------------
    def flush(self) -> None:
        self._writer.flush()
        for writer in self.__dict__.get("_scalar_writers", {}).values():
            writer.flush()

    def close(self) -> None:
        self._writer.close()
        for writer in self.__dict__.get("_scalar_writers", {}).values():
            writer.close()

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _shape_attr(shape):
    from tensorboard.compat.proto import attr_value_pb2, tensor_shape_pb2

    dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=int(size)) for size in shape]
    return attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(
        shape=[tensor_shape_pb2.TensorShapeProto(dim=dims)]))
