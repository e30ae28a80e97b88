"""The ``fastdnn`` command (also ``python -m fastdnn``).

``fastdnn train``, ``predict``, ``evaluate``, ``warmup`` and ``bench``;
``fastdnn COMMAND --help`` describes each. Exit status: 0 on success, 2 for
a usage error, 1 for a failure (missing data, bad model file, unreadable
image, standard output not writable...), 130 when interrupted (Ctrl-C), 141
when standard output is closed early (``| head``); each with one line on
stderr (none for 141), never a traceback: ``--debug`` shows it instead. See
:mod:`fastdnn.cli_exit`.
"""
import sys

from .cli_exit import (EXIT_BROKEN_PIPE, EXIT_FAILURE, EXIT_INTERRUPTED,
                       EXIT_USAGE, INTERRUPTED_LINE, CheckedStdout,
                       StdoutError, silence_stdout)
from .cli_args import (  # noqa: F401 (UsageError, DEFAULT_LAYERS: API)
    DEFAULT_LAYERS, UsageError, build_parser, check_bench_out)


# ---------------------------------------------------------------- commands

def _train(args):
    from .cli_train import train
    return train(args)


def _predict(args):
    from .cli_evaluate import predict
    return predict(args, _describe)


def _evaluate(args):
    from .cli_evaluate import evaluate
    return evaluate(args)


def _warmup(args):
    import time

    import fastdnn
    start = time.perf_counter()
    fastdnn.warmup(args.dtype)
    print("every kernel compiled or loaded for %s in %.1f s"
          % (args.dtype or "float32 and float64",
             time.perf_counter() - start))
    from ._numba_config import CACHE
    if not CACHE:
        print("numba's cache is off (FASTDNN_NUMBA_CACHE=0): later "
              "processes compile again")
    return 0


# ---------------------------------------------------------------- bench

def _bench(argv):
    if "--worker" not in argv:
        check_bench_out(argv)
    try:
        from . import bench
    except ModuleNotFoundError as exc:
        if exc.name == "fastdnn.bench":
            raise RuntimeError("the bench command is not available: this "
                               "fastdnn has no fastdnn.bench module") from None
        raise RuntimeError(
            "the bench command needs %s, which is not installed; install "
            "the extra: pip install 'fastdnn[bench]'" % exc.name) from None
    status = bench.main(argv)
    return 0 if status is None else status


# ---------------------------------------------------------------- main

def _describe(exc):
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return "%s: %s" % (exc.filename, exc.strerror)
    return str(exc) or type(exc).__name__


def _split_bench(argv):
    """``(global_options, bench_argv)`` if the command is bench, else None.

    bench's arguments are not parsed here: they all go to fastdnn.bench.
    """
    for k, arg in enumerate(argv):
        if not arg.startswith("-"):
            return (argv[:k], argv[k + 1:]) if arg == "bench" else None
    return None


def _main(argv):
    """Parse ``argv`` and run the command: its exit status, or one error
    line and 1 or 2. argparse's errors and --help raise SystemExit."""
    parser = build_parser()
    bench_split = _split_bench(argv)
    if bench_split is not None:
        args = parser.parse_args(bench_split[0] + ["bench"])
        run = lambda: _bench(bench_split[1])  # noqa: E731
    else:
        args = parser.parse_args(argv)
        commands = {"train": _train, "predict": _predict,
                    "evaluate": _evaluate, "warmup": _warmup}
        if args.command is None:
            parser.error("a command is required: train, predict, evaluate, "
                         "warmup or bench")
        run = lambda: commands[args.command](args)  # noqa: E731
    try:
        return run()
    except UsageError as exc:
        if args.debug:
            raise
        parser.exit(EXIT_USAGE, "fastdnn %s: error: %s (see 'fastdnn %s "
                    "--help')\n" % (args.command, exc, args.command))
    except (KeyboardInterrupt, StdoutError):
        raise  # main's
    except Exception as exc:
        if args.debug:
            raise
        known = (OSError, ValueError, TypeError, RuntimeError,
                 FloatingPointError, MemoryError)
        msg = _describe(exc)
        if not isinstance(exc, known):
            msg = "%s: %s (rerun with --debug for the traceback)" % (
                type(exc).__name__, msg)
        print("fastdnn: error: %s" % msg.replace("\n", " "), file=sys.stderr)
        return EXIT_FAILURE


def _stderr_line(text):
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed too: the status says it
        pass


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the
    exit status (see :mod:`fastdnn.cli_exit`).

    Errors writing standard output (a closed pipe, a full disk), Ctrl-C
    and argparse's exits are handled here too, so that the process always
    ends with at most one line on stderr and a documented status.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    bench_split = _split_bench(argv)
    # before parsing, which may be what is interrupted
    debug = "--debug" in (argv if bench_split is None else bench_split[0])
    stdout = sys.stdout
    sys.stdout = CheckedStdout(stdout)
    try:
        try:
            status = _main(argv)
        except SystemExit as exc:  # argparse: usage error, --help
            status = exc.code if isinstance(exc.code, int) else (
                0 if exc.code is None else EXIT_FAILURE)
        sys.stdout.flush()  # here, not at exit where its error is a mess
        return status
    except KeyboardInterrupt:
        if debug:
            raise
        _stderr_line(INTERRUPTED_LINE)
        return EXIT_INTERRUPTED
    except StdoutError as exc:
        if debug:
            raise
        silence_stdout(stdout)
        if exc.broken_pipe:
            return EXIT_BROKEN_PIPE
        _stderr_line("fastdnn: error: %s" % exc)
        return EXIT_FAILURE
    finally:
        sys.stdout = stdout
