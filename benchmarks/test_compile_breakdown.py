"""benchmarks/compile_breakdown.py: its symbol names, library walk and
report (the measurement itself, a cold first fit in a new process, takes
a minute and is run by hand)."""
import importlib.util
import pathlib

import numpy as np
import pytest

import fastdnn
from fastdnn import jit


@pytest.fixture(scope="module")
def script():
    path = pathlib.Path(__file__).with_name("compile_breakdown.py")
    spec = importlib.util.spec_from_file_location("compile_breakdown", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("symbol,name", [
    ("_ZN7fastdnn13_kernels_gemm6_tilesB3v63B52c8tJTIeFIjxB2IKSgI4CrvSCKg"
     "1MMbCQQPKkLTj8QGEPTzVgbZoAEfxxxxxxxxxxxxxxx", "_tiles"),
    ("cpython._ZN7fastdnn16_toolbox_kernels11train_stepsB4v226B52c8tJTIe",
     "train_steps"),
    ("c__._ZN13_3cdynamic_3e36__numba_parfor_gufunc_0x7fb2415f4f10B3v1",
     "__numba_parfor_gufunc_0x7fb2415f4f10"),
    ("NRT_decref", "NRT_decref"),
    ("_ZNx", "_ZNx"),
])
def test_function_name_reads_the_symbols_last_part(script, symbol, name):
    assert script.function_name(symbol) == name


def test_library_walk_counts_bodies_or_says_it_cannot(script):
    X = np.random.RandomState(0).rand(4, 3)
    jit.L_model_forward(X, fastdnn.initialize_parameters_deep([4, 3, 1]))
    libraries, bodies, instructions = script.library_bodies()
    if libraries is None:  # loaded from the cache: no IR
        assert not bodies and not instructions
    else:
        assert libraries >= 1 and sum(bodies.values()) >= libraries
        assert set(instructions) == set(bodies)
        assert all(n > 0 for n in instructions.values())


def test_report_prints_the_figures_and_both_tables(script):
    r = {"import": 1.43, "fit": 48.04, "llvm": 35.81, "libraries": 3,
         "own": {"train_steps": 3.47, "ol_min.<locals>.impl": 0.2},
         "bodies": {"train_steps": 1, "_tiles": 3, "impl": 2},
         "instructions": {"train_steps": 900, "_tiles": 6000, "impl": 40}}
    lines = script.report("W1-momentum", r, 2)
    assert lines[0] == ("import fastdnn, empty cache: 1.4 s (it compiles "
                        "the kernels called by symbol)")
    assert lines[1] == ("first fit of W1-momentum, empty cache: 48.0 s, of "
                        "which 35.8 s under numba's LLVM lock")
    assert lines[2] == ("3 compiled libraries hold 6 function bodies, 6940 "
                        "LLVM instructions (2920 with each function once)")
    own = lines[lines.index("") + 2:]
    assert own[0].split() == ["3.47", "1", "900", "train_steps"]
    assert own[1].split() == ["0.20", "2", "40", "ol_min.<locals>.impl"]
    copies = lines[len(lines) - 2:]
    assert copies[0].split() == ["3", "6000", "2000", "_tiles"]
    assert copies[1].split() == ["1", "900", "900", "train_steps"]
    r["libraries"] = None
    lines = script.report("W1-momentum", r, 2)
    assert len(lines) == 6 and "compiled libraries" not in lines[2]
