"""A Tensor as a Python value, with torch's rules, and its sizes, casts, devices and constructors."""
import copy
import pickle

import numpy as np
import pytest

import minicnn
from helpers import import_torch


@pytest.mark.parametrize("values", [[True], [False], [0.0], [3], [[2.5]], 0.0, 7])
def test_bool_int_float_of_one_element_as_torch(device, values):
    torch = import_torch()
    ours, theirs = minicnn.tensor(values, device=device), torch.tensor(values)
    assert bool(ours) is bool(theirs)
    assert int(ours) == int(theirs) and float(ours) == float(theirs)


@pytest.mark.parametrize("values, message", [([1, 2], "more than one value"), ([], "no values")])
def test_bool_of_several_or_no_elements_raises_as_torch(device, values, message):
    torch = import_torch()
    with pytest.raises(RuntimeError, match=message):
        bool(torch.tensor(values))
    with pytest.raises(RuntimeError, match=message):
        bool(minicnn.tensor(values, device=device))
    with pytest.raises(RuntimeError, match=message):
        if minicnn.tensor(values, device=device):  # the way tutorials meet it
            pass


def test_int_and_float_of_several_elements_raise_as_torch(device):
    torch = import_torch()
    for convert in (int, float):
        with pytest.raises(ValueError, match="only one element tensors"):
            convert(torch.tensor([1, 2]))
        with pytest.raises(ValueError, match="only one element tensors"):
            convert(minicnn.tensor([1, 2], device=device))
    with pytest.raises(RuntimeError, match="2 elements cannot be converted to Scalar"):
        minicnn.tensor([1, 2], device=device).item()


def test_integer_tensor_indexes_a_list_and_float_does_not(device):
    torch = import_torch()
    classes = ["plane", "car", "bird"]
    labels = minicnn.tensor([2, 0], device=device)
    assert classes[labels[0]] == "bird" and classes[minicnn.tensor(1, device=device)] == "car"
    assert [10, 20, 30][minicnn.tensor([True], device=device)] == 20
    for tensor_module, make in ((torch, torch.tensor), (minicnn, lambda v: minicnn.tensor(v, device=device))):
        with pytest.raises(TypeError, match="only integer tensors of a single element"):
            classes[make(1.0)]
        with pytest.raises(TypeError, match="only integer tensors of a single element"):
            classes[make([0, 1])]


@pytest.mark.parametrize("spec", [".4f", "", "8.2e", ">10"])
def test_format_of_a_0d_tensor_is_the_format_of_its_number(device, spec):
    torch = import_torch()
    assert format(minicnn.tensor(1.23456, device=device), spec) == format(torch.tensor(1.23456), spec)
    assert "{:{}}".format(minicnn.tensor(3, device=device), spec) == "{:{}}".format(torch.tensor(3), spec)


def test_format_of_a_tensor_with_dimensions_refuses_a_spec_as_torch(device):
    torch = import_torch()
    with pytest.raises(TypeError, match="unsupported format string"):
        format(torch.tensor([1.0]), ".2f")
    with pytest.raises(TypeError, match="unsupported format string"):
        format(minicnn.tensor([1.0], device=device), ".2f")
    assert f"{minicnn.tensor([1.0], device=device)}" == repr(minicnn.tensor([1.0], device=device))


def test_len_and_iteration_as_torch(device):
    torch = import_torch()
    t = minicnn.tensor([[1, 2], [3, 4], [5, 6]], device=device)
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, minicnn.Tensor) for r in rows) and rows[2].tolist() == [5, 6]
    for scalar in (torch.tensor(1.0), minicnn.tensor(1.0, device=device)):
        with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
            len(scalar)
        with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
            iter(scalar)


def test_shape_and_size_are_size_tuples_as_torch(device):
    torch = import_torch()
    ours, theirs = minicnn.zeros(2, 3, 4, device=device), torch.zeros(2, 3, 4)
    for size in (ours.shape, ours.size()):
        assert isinstance(size, minicnn.Size) and isinstance(size, tuple)
        assert size == (2, 3, 4) == tuple(theirs.shape)
    assert ours.size(1) == theirs.size(1) == 3 and ours.size(-1) == theirs.size(-1) == 4
    assert isinstance(ours.shape[1:], minicnn.Size) and ours.shape[1:] == (3, 4)
    assert isinstance(ours.shape + (5,), minicnn.Size) and ours.shape + (5,) == (2, 3, 4, 5)
    assert ours.shape.numel() == theirs.shape.numel() == 24
    assert ours.numel() == ours.nelement() == minicnn.numel(ours) == theirs.nelement()
    assert ours.dim() == ours.ndim == theirs.dim() == 3
    assert repr(ours.shape) == "minicnn.Size([2, 3, 4])" and repr(minicnn.Size()) == "minicnn.Size([])"
    assert pickle.loads(pickle.dumps(ours.shape)) == ours.shape
    with pytest.raises(IndexError):
        ours.size(3)


@pytest.mark.parametrize("method, dtype", [("float", "float32"), ("double", "float64"), ("half", "float16"),
                                           ("long", "int64"), ("int", "int32"), ("bool", "bool")])
def test_dtype_methods_cast_as_torch(device, method, dtype):
    torch = import_torch()
    values = [0.0, 1.5, -2.0]
    ours, theirs = getattr(minicnn.tensor(values, device=device), method)(), getattr(torch.tensor(values), method)()
    assert ours.dtype == np.dtype(dtype) and str(theirs.dtype) == f"torch.{dtype}"
    assert ours.tolist() == theirs.tolist()
    alias = {"float": "float", "double": "double", "half": "half", "long": "long", "int": "int", "bool": "bool"}[method]
    assert getattr(minicnn, alias) == ours.dtype
    assert minicnn.tensor(values, device=device).to(getattr(minicnn, alias)).dtype == ours.dtype


def test_to_accepts_devices_dtypes_tensors_and_keywords(device):
    x = minicnn.tensor([1.0, 2.0], device=device)
    target = minicnn.device("cuda:0" if minicnn.cuda.is_available() else device)
    assert x.to(minicnn.device(device)) is x
    assert x.to(device, minicnn.float64).dtype == np.float64
    assert x.to(dtype=minicnn.long).dtype == np.int64 and x.to(device=device).device == device
    other = minicnn.tensor([1], device=device)
    assert x.to(other).dtype == np.int64
    assert x.to(minicnn.float32, copy=True) is not x
    assert x.to(target).device == target
    assert x.cpu().device == "cpu" and x.to(minicnn.float64, non_blocking=True).dtype == np.float64
    with pytest.raises(TypeError):
        x.to(3.5)


def test_device_class_as_torch(device):
    torch = import_torch()
    cond = False
    for module in (torch, minicnn):
        d = module.device("cuda:0" if cond else "cpu")
        assert str(d) == "cpu" and d.type == "cpu" and d.index is None
        g = module.device("cuda", 1)
        assert str(g) == "cuda:1" and g.type == "cuda" and g.index == 1
        assert repr(g) == "device(type='cuda', index=1)"
        assert module.device("cuda:0").index == 0 and str(module.device("cuda:0")) == "cuda:0"
        assert module.device(d) == d and hash(module.device("cpu")) == hash(module.device("cpu"))
    assert isinstance(minicnn.zeros(1, device=device).device, minicnn.device)
    with pytest.raises(ValueError):
        minicnn.device("tpu")


def test_new_and_like_constructors_keep_dtype_and_device_as_torch(device):
    torch = import_torch()
    base_ours = minicnn.tensor([[1, 2]], dtype=minicnn.float64, device=device)
    base_theirs = torch.tensor([[1, 2]], dtype=torch.float64)
    calls = [
        lambda m, t: t.new_zeros(2, 3), lambda m, t: t.new_ones((1, 2)), lambda m, t: t.new_full((2,), 7.0),
        lambda m, t: t.new_empty(3), lambda m, t: t.new_tensor([1.0, 2.0]), lambda m, t: m.zeros_like(t),
        lambda m, t: m.ones_like(t), lambda m, t: m.full_like(t, 3), lambda m, t: m.empty_like(t),
        lambda m, t: m.rand_like(t), lambda m, t: m.randn_like(t), lambda m, t: m.zeros_like(t, dtype=m.long),
    ]
    for call in calls:
        ours, theirs = call(minicnn, base_ours), call(torch, base_theirs)
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.device == device
        assert str(theirs.dtype) == f"torch.{ours.dtype}" and not ours.requires_grad
    assert base_ours.new_zeros(2, requires_grad=True).requires_grad
    assert minicnn.ones_like(base_ours).tolist() == torch.ones_like(base_theirs).tolist()


def test_tolist_and_numpy_array_protocol(device):
    torch = import_torch()
    values = [[1.5, 2.0], [3.0, -1.0]]
    assert minicnn.tensor(values, device=device).tolist() == torch.tensor(values).tolist()
    assert np.asarray(minicnn.tensor(values, device=device)).tolist() == values
    with pytest.raises(RuntimeError, match="detach"):
        np.asarray(minicnn.tensor(values, device=device, requires_grad=True))


def test_deepcopy_gives_an_independent_tensor(device):
    x = minicnn.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = copy.deepcopy(x)
    with minicnn.no_grad():
        y.add_(1.0)
    assert x.tolist() == [1.0, 2.0] and y.tolist() == [2.0, 3.0] and y.requires_grad and x._version == 0
