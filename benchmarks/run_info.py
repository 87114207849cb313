"""What every benchmark prints first: the commit measured and the load.

Figures of one run are compared with each other (ratios), never with other
runs': the development machines are shared, and the load average at the
start says how much.
"""
import os
import pathlib
import subprocess


def commit() -> str:
    """The commit measured, with ``+`` when the worktree has changes."""
    def git(*argv: str) -> str:
        return subprocess.run(['git', *argv], capture_output=True, text=True,
                              cwd=pathlib.Path(__file__).parent).stdout.strip()
    return git('rev-parse', '--short', 'HEAD') + (
        '+' if git('status', '--porcelain', '--untracked-files=no') else '')


def load_average() -> str:
    return ', '.join(f'{load:.2f}' for load in os.getloadavg())


def header() -> str:
    return f'# commit {commit()}; load average at start: {load_average()}'
