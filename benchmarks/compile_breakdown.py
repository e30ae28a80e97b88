"""Where a first fit's compile time goes, in a new process with an empty
numba cache.

    python benchmarks/compile_breakdown.py [KEY] [--top N]

KEY is a workload case of ``fastdnn bench`` (default ``W1-momentum``);
its first training runs as in ``benchmarks/compile_time.py --fit KEY``
(its network, dtype, optimizer and batch size over 512 random examples,
one pass). Printed:

- the seconds of ``import fastdnn`` (which compiles the kernels called by
  symbol, :mod:`fastdnn._kernels_by_symbol`), then the fit's, and the
  part of the fit's numba spent holding its LLVM lock (LLVM's
  optimisation passes and machine-code emission);
- each compiled function's own compile seconds (numba's compile events,
  its callees' compilations left out), the number of compiled libraries
  that hold a body of it, and that body's LLVM instructions summed over
  those libraries; then the functions with the most instructions over
  all their copies.

numba links the code of every callee into each caller's library and
optimises and emits it again there, so a function deep in the call graph
is compiled once per function above it (the GEMM's tile loops, the row
kernels, the optimizer's chunk, the products' task and the mini-batch's
gather are compiled once per version and called by symbol instead; their
libraries are counted once). The library walk reads numba internals
(``CodeLibrary._final_module``); where a library lacks it (a numba
version without it, or code loaded from the cache), only the seconds are
printed.
"""
import argparse
import collections
import json
import os
import sys
import tempfile
import time


def function_name(symbol):
    """The function's own name in a numba symbol: ``_ZN`` then
    ``<length><name>`` parts (the module path, the function), then ABI
    tags; the symbol's first 40 characters if it has no such parts."""
    i = symbol.find("_ZN")
    if i < 0:
        return symbol[:40]
    i += 3
    name = None
    while i < len(symbol) and symbol[i].isdigit():
        j = i
        while j < len(symbol) and symbol[j].isdigit():
            j += 1
        n = int(symbol[i:j])
        name, i = symbol[j:j + n], j + n
    return name or symbol[:40]


def library_bodies(prefix="fastdnn"):
    """``(libraries, bodies, instructions)`` over the compiled libraries of
    the dispatchers of the loaded modules named ``prefix...`` and of the C
    functions of :mod:`fastdnn._kernels_by_symbol`: how many
    libraries, and per function name the bodies of it they hold and their
    LLVM instructions; ``libraries`` None where one holds no IR to read
    (loaded from the cache, or a numba without ``_final_module``).
    """
    import numba

    libraries = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith(prefix):
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, numba.core.dispatcher.Dispatcher):
                # A kernel's twin for Python's calls too (_kernel_dispatch).
                twin = getattr(obj, "twin", None)
                for dispatcher in (obj,) if twin is None else (obj, twin):
                    for cres in dispatcher.overloads.values():
                        libraries[id(cres.library)] = cres.library
    by_symbol = sys.modules.get(prefix + "._kernels_by_symbol")
    for compiled in getattr(by_symbol, "_COMPILED", ()):
        library = getattr(compiled, "_library", None)
        if library is not None:
            libraries[id(library)] = library
    bodies, instructions = collections.Counter(), collections.Counter()
    for library in libraries.values():
        module = getattr(library, "_final_module", None)
        defined = [] if module is None else [
            fn for fn in module.functions if not fn.is_declaration]
        if not defined:
            # Loaded from the cache as machine code: no IR to read.
            return None, collections.Counter(), collections.Counter()
        for fn in defined:
            key = function_name(fn.name)
            bodies[key] += 1
            instructions[key] += sum(1 for block in fn.blocks
                                     for _ in block.instructions)
    return len(libraries), bodies, instructions


def _child(key):
    # In the new process: the import (which compiles the kernels called
    # by symbol) and the first fit, timed, then their libraries.
    t0 = time.perf_counter()
    import fastdnn  # noqa: F401
    imported = time.perf_counter() - t0
    from numba.core import event

    from fastdnn.bench.workloads import (case_by_key, fastdnn_trainer,
                                         random_examples)

    class OwnSeconds(event.Listener):
        # Each compilation's seconds less those of the compilations it
        # started (its callees', typed while it is).
        def __init__(self):
            self.stack, self.own = [], collections.Counter()

        def on_start(self, ev):
            name = ev.data["dispatcher"].py_func.__qualname__
            self.stack.append([name, time.perf_counter(), 0.0])

        def on_end(self, ev):
            name, t0, inner = self.stack.pop()
            took = time.perf_counter() - t0
            self.own[name] += took - inner
            if self.stack:
                self.stack[-1][2] += took

    case = case_by_key(key)
    X, Y = random_examples(case, 512)
    train = fastdnn_trainer(case, X, Y, "primal")
    own, llvm = OwnSeconds(), [0.0]
    with event.install_listener("numba:compile", own):
        with event.install_timer("numba:llvm_lock",
                                 lambda s: llvm.__setitem__(0, s)):
            t0 = time.perf_counter()
            train(1)
            fit = time.perf_counter() - t0
    libraries, bodies, instructions = library_bodies()
    print(json.dumps({"import": imported, "fit": fit, "llvm": llvm[0],
                      "own": own.own,
                      "libraries": libraries, "bodies": bodies,
                      "instructions": instructions}))


def measure(key):
    """The figures of the first fit of workload case ``key``, made in a
    new process with an empty cache directory."""
    from fastdnn.bench.workers import cached_child_env, run_json_child

    with tempfile.TemporaryDirectory() as cache_dir:
        return run_json_child([os.path.abspath(__file__), "--child", key],
                              cached_child_env(cache_dir), "measuring")


def report(key, r, top):
    """The printed lines of measurement ``r``."""
    lines = ["import fastdnn, empty cache: %.1f s (it compiles the kernels "
             "called by symbol)" % r["import"],
             "first fit of %s, empty cache: %.1f s, of which %.1f s under "
             "numba's LLVM lock" % (key, r["fit"], r["llvm"])]
    bodies = collections.Counter(r["bodies"])
    instructions = collections.Counter(r["instructions"])
    if r["libraries"] is not None:
        once = sum(n / bodies[k] for k, n in instructions.items())
        lines.append("%d compiled libraries hold %d function bodies, %d "
                     "LLVM instructions (%d with each function once)"
                     % (r["libraries"], sum(bodies.values()),
                        sum(instructions.values()), once))
    header = "%9s %7s %13s  function" % ("own (s)", "bodies", "instructions")
    lines += ["", header]
    for name, seconds in collections.Counter(r["own"]).most_common(top):
        short = name.rsplit(".", 1)[-1]
        lines.append("%9.2f %7s %13s  %s" % (
            seconds, bodies.get(short, "-"), instructions.get(short, "-"),
            name))
    if r["libraries"] is not None:
        lines += ["", "%7s %13s %9s  function (most instructions over its "
                  "copies)" % ("bodies", "instructions", "each")]
        for name, n in instructions.most_common(top):
            lines.append("%7d %13d %9d  %s" % (bodies[name], n,
                                               n / bodies[name], name))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("key", nargs="?", default="W1-momentum")
    parser.add_argument("--top", type=int, default=20,
                        help="functions listed in each table")
    parser.add_argument("--child", action="store_true",
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.key)
        return
    print("\n".join(report(args.key, measure(args.key), args.top)))


if __name__ == "__main__":
    main()
