"""Freshness stamps for fastdnn's compiled kernels in numba's on-disk
cache that cover the kernels they call.

numba decides whether a cached kernel is stale from the source of the file
that defines it, and from nothing else. A kernel compiles in every jitted
function it calls, from whatever file, so with numba's rule a change to
``_kernels.py`` would leave ``_primal_kernels.train``'s cached machine code
(which inlined the old version) in use. Here a kernel file's stamp hashes
the file itself, every kernel file it imports (transitively) and the numba
settings in ``_numba_config.py``: a change to a kernel file recompiles the
kernels of that file and of every file that uses it, and nothing else.

Kernel files are the package's modules whose names contain ``kernels``
(:func:`kernel_files`); jitted code lives in no other module (a test checks
this). Functions of other packages keep numba's own stamp: the locator
classes installed here defer to numba's for every file outside this
package.
"""
import hashlib
import os
import re

#: The modules, besides the kernel files, whose content changes compiled
#: code (compile flags).
_SETTINGS_FILES = ("_numba_config.py",)

# "from . import _kernels as K", "from . import _a, _b",
# "from ._kernels_output import x": the sibling modules a file imports.
_IMPORT = re.compile(
    r"^[ \t]*from[ \t]+\.(\w*)[ \t]+import[ \t]+\(?([\w \t,]*)", re.MULTILINE)


def kernel_files(package_dir):
    """The names of the package's kernel files, sorted."""
    return sorted(name for name in os.listdir(package_dir)
                  if name.endswith(".py") and "kernels" in name)


def _read(package_dir, name):
    with open(os.path.join(package_dir, name), "rb") as f:
        return f.read()


def _imported_kernel_files(source, kernels):
    found = set()
    for module, names in _IMPORT.findall(source.decode("utf-8", "replace")):
        candidates = [module] if module else [
            part.split()[0] for part in names.split(",") if part.strip()]
        for candidate in candidates:
            if candidate + ".py" in kernels:
                found.add(candidate + ".py")
    return found


def kernel_stamps(package_dir):
    """``{kernel file name: stamp (hex str)}``: each stamp hashes the file,
    the kernel files it imports, directly or not, and the settings
    files."""
    kernels = kernel_files(package_dir)
    sources = {name: _read(package_dir, name) for name in kernels}
    direct = {name: _imported_kernel_files(sources[name], set(kernels))
              for name in kernels}
    settings = b"".join(_read(package_dir, name) + b"\0"
                        for name in _SETTINGS_FILES)
    stamps = {}
    for name in kernels:
        closure, todo = {name}, [name]
        while todo:
            for dep in direct[todo.pop()] - closure:
                closure.add(dep)
                todo.append(dep)
        digest = hashlib.sha256(settings)
        for dep in sorted(closure):
            digest.update(dep.encode() + b"\0" + sources[dep] + b"\0")
        stamps[name] = digest.hexdigest()
    return stamps


def _stamped(locator_class, package_dir, stamps):
    class Stamped(locator_class):
        def get_source_stamp(self):
            path = os.path.abspath(getattr(self, "_py_file", ""))
            if os.path.dirname(path) == package_dir:
                stamp = stamps.get(os.path.basename(path))
                if stamp is not None:
                    return ("fastdnn-kernels", stamp)
            return super().get_source_stamp()

    Stamped.__name__ = Stamped.__qualname__ = (
        "FastdnnStamped" + locator_class.__name__)
    return Stamped


def install(package_dir):
    """Give every kernel file under ``package_dir`` the package's stamp in
    numba's cache.

    Returns True when installed (or already installed), False when this
    numba does not have the cache machinery expected (then numba's own
    per-file stamps apply).
    """
    package_dir = os.path.abspath(package_dir)
    try:
        from numba.core import caching
        # Public names since numba 0.6x, underscored before.
        impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
        source_backed = caching._SourceFileBackedLocatorMixin
        classes = list(impl._locator_classes)
    except (ImportError, AttributeError):
        return False
    if getattr(impl, "_fastdnn_package_dir", None) == package_dir:
        return True
    stamps = kernel_stamps(package_dir)
    impl._locator_classes = [
        _stamped(cls, package_dir, stamps)
        if isinstance(cls, type) and issubclass(cls, source_backed)
        else cls for cls in classes]
    impl._fastdnn_package_dir = package_dir
    return True
