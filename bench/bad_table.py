"""What bad tables cost `eulagate plan`: each must end in exit 2 with one line (an alias bomb kept in x- keys is
valid: exit 0), in under 5 s and 500 MB.

    .venv/bin/python bench/bad_table.py

Writes each bad table under bench/.work/bad-tables/ and runs `eulagate plan` on it as a separate process, as
`plan` on the example table (`models.yaml`) is run first: the baseline, measured in the same run. For each case it
prints the exit code, the number of stderr lines, the wall time and the peak RSS of the process (``ru_maxrss``
of the child), and both as ratios of the baseline's. It exits 1 when a case misses a target.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work" / "bad-tables"
EULAGATE = Path(sys.executable).with_name("eulagate")
MAX_SECONDS = 5.0
MAX_RSS_MB = 500.0
ROW = "endpoints:\n  - name: a\n    model: FlanT5XL\n    regions: [us-east-1]\n"


@dataclass(frozen=True)
class Run:
    code: int
    stderr_lines: int
    seconds: float
    rss_mb: float


def plan(path: Path) -> Run:
    """One `eulagate plan` process: its exit code, stderr lines, wall time and peak RSS (from wait4)."""
    stderr_path = WORK / "stderr.txt"
    with stderr_path.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen([str(EULAGATE), "plan", str(path)], stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    lines = len(stderr_path.read_text(encoding="utf-8", errors="replace").splitlines())
    return Run(process.returncode, lines, seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def write_text(text: str) -> Callable[[Path], object]:
    return lambda path: path.write_text(text, encoding="utf-8")


def write_huge_string(megabytes: int) -> Callable[[Path], object]:
    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8") as file:
            file.write("endpoints:\n  - name: '")
            chunk = "a-" * (1024 * 512)  # 1 MiB
            for _ in range(megabytes):
                file.write(chunk)
            file.write("!'\n    model: FlanT5XL\n")
    return write


def write_fifo(path: Path) -> None:
    os.mkfifo(path)


CASES: dict[str, Callable[[Path], object]] = {
    "typed tags (!!float x)": write_text(ROW + "    instance_count: !!float x\n"),
    "typed tags (!!timestamp x)": write_text(ROW + "    accept_eula: !!timestamp x\n"),
    "250 levels of nesting": write_text("endpoints: " + "[" * 250 + "]" * 250 + "\n"),
    # x- keys are the author's own: the table is valid (exit 0), and the anchors are never expanded.
    "alias bomb in x- keys (9^30 leaves)": write_text("x-l0: &l0 [x]\n" + "\n".join(
        f"x-l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 31)) + "\n" + ROW),
    "15 MB string (under the size limit)": write_huge_string(15),
    "100 MB string": write_huge_string(100),
    "Latin-1 bytes": lambda path: path.write_bytes(ROW.replace("name: a", "name: caf\xe9").encode("latin-1")),
    "FIFO as the table": write_fifo,
    "directory as the table": lambda path: path.mkdir(),
}


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    baseline = plan(ROOT / "models.yaml")
    print(f"baseline: plan models.yaml: exit {baseline.code}, {baseline.seconds:.2f} s, {baseline.rss_mb:.0f} MB")
    print(f"{'case':40} {'exit':>4} {'lines':>5} {'seconds':>8} {'x base':>7} {'MB':>6} {'x base':>7}")
    missed = []
    for name, write in CASES.items():
        path = WORK / (name.split(" (")[0].replace(" ", "-") + ".yaml")
        if path.is_dir():
            path.rmdir()
        elif path.exists():
            path.unlink()
        write(path)
        run = plan(path)
        print(f"{name:40} {run.code:>4} {run.stderr_lines:>5} {run.seconds:>8.2f} "
              f"{run.seconds / baseline.seconds:>7.2f} {run.rss_mb:>6.0f} {run.rss_mb / baseline.rss_mb:>7.2f}")
        expected = (0, 0) if name.startswith("alias bomb") else (2, 1)
        if (run.code, run.stderr_lines) != expected or run.seconds > MAX_SECONDS or run.rss_mb > MAX_RSS_MB:
            missed.append(name)
    print(f"targets (exit 2 and one line, < {MAX_SECONDS:g} s, < {MAX_RSS_MB:g} MB): "
          + ("met" if not missed else f"MISSED by {', '.join(missed)}"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
