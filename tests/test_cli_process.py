"""The ``fastdnn`` process itself: Ctrl-C, a closed pipe, a full disk on
standard output. Each ends with at most one line on stderr and a documented
exit status (fastdnn.cli_exit), never a traceback. Run for real in
subprocesses, on the small synthetic data with the numpy backend."""
import re
import signal
import subprocess
import sys

import pytest

EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 1, 130, 141
TRAIN = ["train", "--synthetic", "--backend", "numpy"]

pytestmark = pytest.mark.skipif(sys.platform == "win32",
                                reason="POSIX signals and /dev/full")


def _command(*args):
    return [sys.executable, "-m", "fastdnn", *map(str, args)]


@pytest.fixture(autouse=True)
def _ctrl_c_not_ignored():
    # A child inherits an ignored SIGINT (a parent that set SIG_IGN, such
    # as a shell's background job) and would then never see the signal
    # these tests send: it would train all its 100,000 iterations. While a
    # test runs, this process catches SIGINT instead (a caught signal
    # reverts to its default action in the child, whose Python then
    # raises KeyboardInterrupt on it).
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if previous == signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous)


def _one_line(stderr, code, returncode):
    assert returncode == code, (returncode, stderr)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_closed_pipe_is_quiet_with_status_141():
    """``fastdnn train ... | head -1``: no BrokenPipeError traceback, no
    "Exception ignored" at exit (status 120 before)."""
    with subprocess.Popen(_command(*TRAIN, "--iterations", "300"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as p:
        first = p.stdout.readline()
        p.stdout.close()  # as head -1 does after its line
        err = p.stderr.read()
        p.wait(timeout=300)
    assert first.startswith("Training [768, 20, 7, 5, 1]")
    assert p.returncode == EXIT_BROKEN_PIPE, (p.returncode, err)
    assert err == ""


@pytest.mark.parametrize("args", [
    TRAIN + ["--iterations", "2"],
    ["--help"],
    ["train", "--help"],
    ["--version"],
])
def test_full_disk_on_stdout_is_one_line(args):
    with open("/dev/full", "w") as full:
        r = subprocess.run(_command(*args), stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=300)
    line = _one_line(r.stderr, EXIT_FAILURE, r.returncode)
    assert line == ("fastdnn: error: cannot write to standard output: No "
                    "space left on device")


def _interrupt_when(python_args, ready):
    """Run ``python *python_args``, send SIGINT once ``ready(line)`` is true
    for a line of its stderr; ``(returncode, stderr before, stderr after)``.
    """
    with subprocess.Popen([sys.executable, *python_args],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True) as p:
        seen = []
        for line in p.stderr:
            seen.append(line)
            if ready(line):
                break
        p.send_signal(signal.SIGINT)
        rest = p.stderr.read()
        p.wait(timeout=300)
    return p.returncode, "".join(seen), rest


@pytest.mark.parametrize("moment", ["numpy", "fastdnn.reference",
                                    "fastdnn.cli"])
def test_ctrl_c_during_the_imports(moment):
    """SIGINT while fastdnn and its dependencies are being imported, before
    main() runs (python -X importtime reports each finished import on
    stderr, so the signal lands at a known point)."""
    pattern = re.compile(r"\|\s*%s$" % re.escape(moment))
    code, before, rest = _interrupt_when(
        ["-X", "importtime", "-m", "fastdnn"] + TRAIN
        + ["--iterations", "100000"], lambda ln: pattern.search(ln.rstrip()))
    assert pattern.search(before), "never reached %s:\n%s" % (moment, before)
    rest = "\n".join(ln for ln in rest.splitlines()
                     if not ln.startswith("import time:"))
    assert _one_line(rest, EXIT_INTERRUPTED, code) == "fastdnn: interrupted"


def test_ctrl_c_during_training():
    with subprocess.Popen(_command(*TRAIN, "--iterations", "100000"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as p:
        assert p.stdout.readline().startswith("Training")
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=300)
    assert _one_line(err, EXIT_INTERRUPTED, p.returncode) == \
        "fastdnn: interrupted"


def test_ctrl_c_with_debug_shows_the_traceback():
    with subprocess.Popen(_command(*TRAIN, "--debug", "--iterations",
                                   "100000"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as p:
        assert p.stdout.readline().startswith("Training")
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=300)
    assert "KeyboardInterrupt" in err and "Traceback" in err


def test_importing_fastdnn_leaves_ctrl_c_alone():
    """Only the command reports Ctrl-C as one line: a program that imports
    fastdnn keeps Python's own KeyboardInterrupt handling."""
    code = ("import sys; hook = sys.excepthook; import fastdnn; "
            "print(sys.excepthook is hook)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "True", r.stderr
