"""numba's on-disk cache: a kernel's stamp covers the kernels it calls, and
jitted code lives only in the kernel files that the stamps cover."""
import importlib
import os
import pkgutil

import pytest

import fastdnn
from fastdnn import _numba_cache_stamp as stamp
from fastdnn import _numba_config as cfg

numba = pytest.importorskip("numba")

PACKAGE_DIR = os.path.dirname(os.path.abspath(fastdnn.__file__))


def _modules():
    yield fastdnn
    for info in pkgutil.walk_packages(fastdnn.__path__, "fastdnn."):
        if info.name.startswith("fastdnn.bench") or info.name.endswith(
                "__main__"):
            continue  # optional peers / the CLI entry; no jitted code
        yield importlib.import_module(info.name)


def _jitted_functions():
    """(module, dispatcher) of every jitted function the package defines."""
    from numba.core.dispatcher import Dispatcher
    for module in _modules():
        for value in vars(module).values():
            if (isinstance(value, Dispatcher)
                    and value.py_func.__module__ == module.__name__):
                yield module, value


def test_jitted_functions_live_only_in_kernel_files():
    owners = {os.path.basename(module.__file__)
              for module, _ in _jitted_functions()}
    assert owners, "no jitted function found: the scan is broken"
    assert owners <= set(stamp.kernel_files(PACKAGE_DIR))
    assert all(os.path.dirname(os.path.abspath(
        importlib.import_module("fastdnn." + name[:-3]).__file__))
        == PACKAGE_DIR for name in owners)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="nothing is compiled")
def test_every_kernel_states_its_reference_counting():
    # numba compiles a function called from jitted code with its caller's
    # NRT setting unless the function sets one: a kernel that allocates,
    # called from a loop compiled without NRT, would then fail to compile
    # (only once the cache is empty). Every jitted function states it,
    # except those inlined into their callers.
    seen = 0
    for module, kernel in _jitted_functions():
        if kernel.targetoptions.get("inline") == "always":
            continue
        seen += 1
        assert "_nrt" in kernel.targetoptions, (module.__name__,
                                                kernel.__name__)
    assert seen > 50, "the scan found too few kernels: it is broken"


def _write(folder, name, text):
    with open(os.path.join(folder, name), "w") as f:
        f.write(text)


@pytest.fixture
def package(tmp_path):
    _write(tmp_path, "_numba_config.py", "FLAGS = 1\n")
    _write(tmp_path, "_base_kernels.py", "def f():\n    return 1\n")
    _write(tmp_path, "_mid_kernels.py",
           "from . import _numba_config as cfg\n"
           "from ._base_kernels import f\n")
    _write(tmp_path, "_top_kernels.py", "from . import _mid_kernels as M\n")
    _write(tmp_path, "_other_kernels.py", "x = 1\n")
    _write(tmp_path, "plain.py", "from . import _top_kernels\n")
    return str(tmp_path)


def test_stamps_cover_imported_kernel_files(package):
    before = stamp.kernel_stamps(package)
    assert sorted(before) == ["_base_kernels.py", "_mid_kernels.py",
                              "_other_kernels.py", "_top_kernels.py"]
    _write(package, "_base_kernels.py", "def f():\n    return 2\n")
    after = stamp.kernel_stamps(package)
    # The changed file and everything that imports it, directly or not.
    for name in ("_base_kernels.py", "_mid_kernels.py", "_top_kernels.py"):
        assert after[name] != before[name], name
    assert after["_other_kernels.py"] == before["_other_kernels.py"]
    _write(package, "_top_kernels.py", "from . import _mid_kernels as M\n#\n")
    again = stamp.kernel_stamps(package)
    assert again["_top_kernels.py"] != after["_top_kernels.py"]
    assert again["_mid_kernels.py"] == after["_mid_kernels.py"]


def test_settings_change_every_stamp(package):
    before = stamp.kernel_stamps(package)
    _write(package, "_numba_config.py", "FLAGS = 2\n")
    after = stamp.kernel_stamps(package)
    assert all(after[name] != before[name] for name in before)


@pytest.mark.skipif(not cfg.CACHE, reason="numba's cache is turned off")
def test_installed_locators_use_the_stamps():
    from fastdnn import _kernels, _primal_kernels
    stamps = stamp.kernel_stamps(PACKAGE_DIR)
    for module, name in ((_kernels, "_kernels.py"),
                         (_primal_kernels, "_primal_kernels.py")):
        locator = module.forward_serial._cache._impl._locator \
            if module is _kernels else module.train._cache._impl._locator
        assert locator.get_source_stamp() == ("fastdnn-kernels",
                                              stamps[name])
    assert stamp.install(PACKAGE_DIR)  # a second call changes nothing


def test_other_files_keep_numbas_stamp(tmp_path):
    from numba.core import caching
    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    source = tmp_path / "elsewhere.py"
    source.write_text("def g():\n    return 1\n")
    namespace = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    stamped = [cls for cls in impl._locator_classes
               if cls.__name__.startswith("FastdnnStamped")]
    assert stamped
    locator = stamped[0](namespace["g"], str(source))
    assert locator.get_source_stamp()[0] != "fastdnn-kernels"
