"""Every operation of fastdnn.registry, numpy against numba, at the course's
small shapes and at the cat shape (W 20 x 12288, A_prev 12288 x 209): one
case per activation of the tables (its element-wise block and its layer's
forward and backward pass), per output (its cost and the training loops'
output gradient AL - Y), and the course's network (relu/sigmoid) end to
end. The other activation x output networks are the equivalence tests'
(their kernels are these)."""
import functools

import pytest

from fastdnn.registry import (CAT, OPERATIONS, REGISTRY, SMALL, TRAINING,
                              Shape, make_inputs)

from conftest import group

#: The course's small test-case shapes (5 features, layers 4-3-1, m = 4:
#: the L_model_forward test case) and the cat shapes.
COURSE = Shape((5, 4, 3, 1), 4)
SHAPES = {"course": COURSE, "small": SMALL, "cat": CAT}
SHAPE_NAMES = ("course", "cat")


def _one_table_entry(op):
    # An operation of one activation or one output (or neither), or the
    # course's network under its bare name.
    network = OPERATIONS[op]
    return (network.activation is None or network.output is None
            or op == network.function)


OPERATIONS_TIMED = sorted(op for op in REGISTRY
                          if OPERATIONS[op].function not in TRAINING
                          and _one_table_entry(op))

CASES = [(op, shape, dtype, backend)
         for op in OPERATIONS_TIMED
         for shape in SHAPE_NAMES
         for dtype in ("float64", "float32")
         for backend in sorted(REGISTRY[op])]


@functools.lru_cache(maxsize=1)
def _inputs(operation, shape, dtype):
    # The backends of one operation run one after the other (CASES' order)
    # on the same inputs: made once (a cat-shaped draw takes a while on a
    # busy host). No function changes its arguments, which the benchmark's
    # repeated calls rely on anyway.
    return make_inputs(operation, SHAPES[shape], dtype, seed=0)


@pytest.mark.parametrize(
    "operation,shape,dtype,backend", CASES,
    ids=["%s-%s-%s-%s" % c for c in CASES])
def test_kernel(benchmark, operation, shape, dtype, backend):
    fn = REGISTRY[operation][backend]
    args = _inputs(operation, shape, dtype)
    shape = SHAPES[shape]
    fn(*args)  # compile (or load from the cache) outside the timing
    benchmark.group = group(operation, shape, dtype)
    benchmark.extra_info.update(backend=backend, operation=operation)
    result = benchmark(fn, *args)
    assert result is not None
