"""What a benchmark's figures were measured on: the commit, and how busy the
machine was when the run started.

Every script in benchmarks/ prints :func:`header` first, so that
docs/benchmarks-*.md can record both: on a shared machine a figure without
its load average cannot be compared with a later one, and without its commit
nobody can tell which code it describes.
"""
import os
import pathlib
import platform
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]


def commit() -> str:
    """The checkout's commit, saying so when tracked files differ from it."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(['git', '-C', str(REPO), *args],
                              capture_output=True, text=True)
    head = git('rev-parse', '--short', 'HEAD')
    if head.returncode != 0:
        return 'unknown (not a git checkout)'
    changed = git('status', '--porcelain', '--untracked-files=no').stdout
    return head.stdout.strip() + (' + uncommitted changes' if changed.strip()
                                  else '')


def load_average() -> str:
    return ' '.join(f'{value:.2f}' for value in os.getloadavg())


def header() -> str:
    """One line for the top of a benchmark's output."""
    return (f'# commit {commit()}; load average at start {load_average()} '
            f'(1, 5, 15 min) on {os.cpu_count()} CPUs; '
            f'Python {platform.python_version()}')
