"""Every operation of fastdnn.registry, numpy against numba, at the course's
small shapes and at the cat shape (W 20 x 12288, A_prev 12288 x 209)."""
import pytest

from fastdnn.registry import CAT, REGISTRY, SMALL, Shape, make_inputs

from conftest import group

#: The course's small test-case shapes (5 features, layers 4-3-1, m = 4:
#: the L_model_forward test case) and the cat shapes.
COURSE = Shape((5, 4, 3, 1), 4)
SHAPES = {"course": COURSE, "small": SMALL, "cat": CAT}
SHAPE_NAMES = ("course", "cat")

TRAINING = ("two_layer_model", "L_layer_model")
OPERATIONS = sorted(op for op in REGISTRY if op not in TRAINING)

CASES = [(op, shape, dtype, backend)
         for op in OPERATIONS
         for shape in SHAPE_NAMES
         for dtype in ("float64", "float32")
         for backend in sorted(REGISTRY[op])]


@pytest.mark.parametrize(
    "operation,shape,dtype,backend", CASES,
    ids=["%s-%s-%s-%s" % c for c in CASES])
def test_kernel(benchmark, operation, shape, dtype, backend):
    shape = SHAPES[shape]
    fn = REGISTRY[operation][backend]
    args = make_inputs(operation, shape, dtype, seed=0)
    fn(*args)  # compile (or load from the cache) outside the timing
    benchmark.group = group(operation, shape, dtype)
    benchmark.extra_info.update(backend=backend, operation=operation)
    result = benchmark(fn, *args)
    assert result is not None
