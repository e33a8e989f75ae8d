"""The operators of ``SimArray``: arithmetic, comparison, bitwise, reflected and in-place.

A device array combines with another device array or with a python/numpy scalar; a host array (or a
list standing for one) on either side raises TypeError naming both operands, as CuPy refuses it.
Anything else returns NotImplemented, so e.g. a Tensor's reflected operator can take over.
"""
from __future__ import annotations

import operator

import numpy as np

from ._array import _SCALARS, SimArray, _mix_error, _new_sim, wrap

def _binary(function, symbol):
    def forward(self, other):
        if type(other) is SimArray:
            result = function(self._a, other._a)
        elif isinstance(other, _SCALARS):
            result = function(self._a, other)
        elif isinstance(other, (np.ndarray, list, tuple)):
            raise _mix_error(symbol, self, other)
        else:
            return NotImplemented
        return _new_sim(result) if type(result) is np.ndarray else wrap(result)

    def reflected(self, other):
        if isinstance(other, _SCALARS):
            result = function(other, self._a)
        elif isinstance(other, (np.ndarray, list, tuple)):
            raise _mix_error(symbol, other, self)
        else:
            return NotImplemented
        return _new_sim(result) if type(result) is np.ndarray else wrap(result)

    return forward, reflected


def _inplace(function, symbol):
    def method(self, other):
        if type(other) is SimArray:
            function(self._a, other._a)
        elif isinstance(other, _SCALARS):
            function(self._a, other)
        elif isinstance(other, (np.ndarray, list, tuple)):
            raise _mix_error(symbol + "=", self, other)
        else:
            return NotImplemented
        return self

    return method


_BINARY = {
    "add": (operator.add, operator.iadd, "+"),
    "sub": (operator.sub, operator.isub, "-"),
    "mul": (operator.mul, operator.imul, "*"),
    "truediv": (operator.truediv, operator.itruediv, "/"),
    "floordiv": (operator.floordiv, operator.ifloordiv, "//"),
    "mod": (operator.mod, operator.imod, "%"),
    "pow": (operator.pow, operator.ipow, "**"),
    "matmul": (operator.matmul, operator.imatmul, "@"),
    "and": (operator.and_, operator.iand, "&"),
    "or": (operator.or_, operator.ior, "|"),
    "xor": (operator.xor, operator.ixor, "^"),
    "lshift": (operator.lshift, operator.ilshift, "<<"),
    "rshift": (operator.rshift, operator.irshift, ">>"),
}
for _name, (_function, _inplace_function, _symbol) in _BINARY.items():
    _forward, _reflected = _binary(_function, _symbol)
    setattr(SimArray, f"__{_name}__", _forward)
    setattr(SimArray, f"__r{_name}__", _reflected)
    setattr(SimArray, f"__i{_name}__", _inplace(_inplace_function, _symbol))
SimArray.__divmod__, SimArray.__rdivmod__ = _binary(divmod, "divmod()")

_COMPARISONS = {"lt": "<", "le": "<=", "eq": "==", "ne": "!=", "gt": ">", "ge": ">="}
for _name, _symbol in _COMPARISONS.items():
    setattr(SimArray, f"__{_name}__", _binary(getattr(operator, _name), _symbol)[0])


def _unary(function):
    def method(self):
        return wrap(function(self._a))

    return method


for _name, _function in {"neg": operator.neg, "pos": operator.pos, "abs": abs, "invert": operator.invert}.items():
    setattr(SimArray, f"__{_name}__", _unary(_function))
