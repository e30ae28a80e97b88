"""Write a file atomically, leaving nothing behind when interrupted.

The content goes to a temporary file with a short name in the target's
folder, is flushed to disk, and is renamed over the target with
:func:`os.replace`: readers see the old file or the new one, never a mix.
The temporary file is removed whatever interrupts the write: an exception,
``KeyboardInterrupt`` or SIGTERM.
"""
import os
import secrets
import signal
import threading

#: Temporary files are named ``.fastdnn-<8 hex digits>.tmp``: short, so a
#: target whose name is at the file system's limit (255 bytes) still works.
TEMP_PREFIX, TEMP_SUFFIX = ".fastdnn-", ".tmp"


class _Terminated(BaseException):
    """SIGTERM arrived while a file was being written."""


def _die_by_sigterm():
    # the default action, as if the handler had never been installed: the
    # process terminates with SIGTERM as its status
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.raise_signal(signal.SIGTERM)


def _install_sigterm_guard(state):
    """Make SIGTERM raise ``_Terminated`` while ``state["busy"]``, and note
    it in ``state["terminated"]``.

    SIGTERM's default action kills the process at once, which would leave
    the temporary file (as large as the model) behind. Only in the main
    thread (the only one that may set handlers) and only when SIGTERM has
    its default action: a handler the program set stays in charge. Returns
    whether the guard was installed.
    """
    def handler(signum, frame):
        state["terminated"] = True
        if state["busy"]:
            raise _Terminated(signum)
        _die_by_sigterm()  # no temporary file exists any more

    try:
        if (threading.current_thread() is not threading.main_thread()
                or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL):
            return False
        signal.signal(signal.SIGTERM, handler)
    except (AttributeError, ValueError):  # no SIGTERM, a subinterpreter
        return False
    return True


def _create_temp(folder, tmp):
    """Create and open a new temporary file in ``folder``; its name is
    stored in ``tmp[0]`` *before* it exists, so an interruption at any point
    after the creation still knows what to remove."""
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL
             | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
    for _ in range(100):
        tmp[0] = os.path.join(folder, TEMP_PREFIX + secrets.token_hex(4)
                              + TEMP_SUFFIX)
        try:
            return os.open(tmp[0], flags, 0o600)
        except FileExistsError:  # someone else's: never remove it
            tmp[0] = None
    raise FileExistsError("no free temporary file name in %s" % folder)


def _set_mode(tmp, path):
    # The temporary file is created 0600; give the file the mode of the file
    # it replaces, or the usual 0666 minus the umask for a new one.
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def _write(path, write, tmp):
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd = _create_temp(folder, tmp)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _set_mode(tmp[0], path)
        os.replace(tmp[0], path)
    except BaseException:
        if tmp[0] is not None:
            try:
                os.unlink(tmp[0])
            except OSError:
                pass
        raise


def write_atomically(path, write):
    """Call ``write(f)`` on a temporary file, then rename it to ``path``.

    If anything interrupts it (an exception, ``KeyboardInterrupt``, or, in
    the main thread when SIGTERM has its default action, SIGTERM), the
    temporary file is removed and ``path`` keeps its previous content; the
    exception propagates, and SIGTERM then still terminates the process.
    A ``path`` that is a folder is refused first (IsADirectoryError naming
    it), as the rename would fail only after the whole write.
    """
    if os.path.isdir(path):
        raise IsADirectoryError(
            "%s is a folder; pass a file name in it, such as %s"
            % (path, os.path.join(path, "model.npz")))
    state = {"busy": True, "terminated": False}
    tmp = [None]
    installed = False
    try:
        installed = _install_sigterm_guard(state)
        try:
            _write(path, write, tmp)
        finally:
            # from here SIGTERM kills at once: there is nothing to clean
            state["busy"] = False
    except BaseException:
        # _Terminated itself, or an error it caused on its way out (numpy's
        # savez closes its zip file in a finally, which can fail with a
        # member half-written)
        if state["terminated"]:
            _die_by_sigterm()
        raise  # not reached after SIGTERM unless the signal is blocked
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
