"""Exit statuses of the ``fastdnn`` command and the failures of the process
itself: Ctrl-C, a closed pipe, a full disk on standard output.

Whatever happens, the command ends with one line on stderr (none for a
closed pipe) and one of these statuses, never a Python traceback (unless
``--debug`` is given):

====  =================================================================
0     success
1     failure: missing data, bad model file, an unreadable image (the
      other images are still classified), standard output not writable
2     usage error (bad arguments)
130   interrupted (Ctrl-C, SIGINT): ``fastdnn: interrupted``
141   standard output closed early (``fastdnn ... | head -1``): nothing
      more is written, as a program killed by SIGPIPE would do
====  =================================================================

This module imports only the standard library: :mod:`fastdnn` calls
:func:`install_interrupt_hook` before its own (slow) imports, so that a
Ctrl-C during them is reported as one line too.
"""
import os
import sys

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

INTERRUPTED_LINE = "fastdnn: interrupted"


def _is_the_command():
    """True in the process of ``fastdnn ...`` or ``python -m fastdnn ...``
    (not when a program imports fastdnn)."""
    first = sys.argv[0] if sys.argv else ""
    if first == "-m":  # python -m PACKAGE, while PACKAGE is imported
        argv = list(getattr(sys, "orig_argv", None) or [])
        k = argv.index("-m") if "-m" in argv else -2
        return argv[k + 1:k + 2] == ["fastdnn"]
    if first.endswith(os.path.join("fastdnn", "__main__.py")):
        return True
    return os.path.basename(first) in ("fastdnn", "fastdnn.exe")


def _interrupt_hook(previous):
    def hook(kind, value, tb):
        if (issubclass(kind, KeyboardInterrupt)
                and "--debug" not in sys.argv[1:]):
            try:
                sys.stderr.write(INTERRUPTED_LINE + "\n")
                sys.stderr.flush()
            except Exception:  # stderr closed: the status still says it
                pass
            os._exit(EXIT_INTERRUPTED)
        previous(kind, value, tb)
    hook.fastdnn_interrupt_hook = True
    return hook


def install_interrupt_hook():
    """In the fastdnn command only: a Ctrl-C that reaches the top level
    (during the imports, before :func:`fastdnn.cli.main` can catch it)
    prints one line and exits with status 130 instead of a traceback.

    It does nothing when fastdnn is imported by another program, whose
    Ctrl-C stays its own business.
    """
    if _is_the_command() and not getattr(sys.excepthook,
                                         "fastdnn_interrupt_hook", False):
        sys.excepthook = _interrupt_hook(sys.excepthook)


class StdoutError(Exception):
    """Standard output cannot be written (closed pipe, full disk...)."""

    def __init__(self, error):
        super().__init__("cannot write to standard output: %s"
                         % (error.strerror or error))
        self.error = error

    @property
    def broken_pipe(self):
        return isinstance(self.error, BrokenPipeError)


class CheckedStdout:
    """Wraps ``sys.stdout``: an OSError writing it becomes a StdoutError,
    which the command's error handling tells apart from the OSError of a
    file it reads or writes."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        try:
            return self.stream.write(text)
        except OSError as exc:
            raise StdoutError(exc) from exc

    def flush(self):
        try:
            self.stream.flush()
        except OSError as exc:
            raise StdoutError(exc) from exc

    def __getattr__(self, name):
        return getattr(self.stream, name)


def silence_stdout(stream):
    """Point the file descriptor of ``stream`` to /dev/null.

    What Python's documentation recommends after a BrokenPipeError: the
    text still buffered is then flushed there at exit, instead of failing
    again with an "Exception ignored" message and status 120.
    """
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's capture): nothing to flush
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


# Installed on import: fastdnn/__init__.py imports this module first.
install_interrupt_hook()
