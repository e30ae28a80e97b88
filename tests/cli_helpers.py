"""The command line's test helpers: ``fastdnn``'s ``main`` run in this
process, and the one-line error every failing command must print."""
import subprocess

from fastdnn import cli


def run_main(capsys, *args):
    """``cli.main`` in this process (faster than a subprocess), as a
    CompletedProcess: its exit code (argparse's usage errors and --help
    exit through SystemExit) and what it printed."""
    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def one_error_line(r, code):
    """Assert that the run ``r`` exited with ``code`` after printing one
    line to stderr, ``fastdnn...error: ...``, no traceback; return it."""
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("fastdnn") and "error:" in lines[0]
    return lines[0]
