"""Bad input to `eulagate check`: each class exits 2 with one line, within 5 s and under 500 MB, and 1,000 template
paths on the command line are checked in under 2 s.

    .venv/bin/python bench/bad_input.py

Each case runs `eulagate check` as its own process; its wall time and maximum resident set size come from the
kernel (``os.wait4``). The baseline, measured in the same run, is `eulagate check` of one small template: Python's
start-up and the CLI's imports, which every case pays. Targets are asserted here, never in tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EULAGATE = Path(sys.executable).parent / "eulagate"
MAX_SECONDS = 5.0
MAX_RSS_MB = 500.0
MAX_THOUSAND_PATHS_SECONDS = 2.0
SMALL = '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}'
# Each level refers to the one before four times: 4^9 copies of the first list, unless aliases are refused.
BILLION_LAUGHS = "Resources: {}\na: &a [x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + level)}: &{chr(98 + level)} [{', '.join([f'*{chr(97 + level)}'] * 4)}]\n" for level in range(9))


@dataclass(frozen=True)
class Run:
    code: int
    seconds: float
    rss_mb: float
    stderr: str


def run_check(arguments: list[str], cwd: Path) -> Run:
    started = time.perf_counter()
    process = subprocess.Popen([str(EULAGATE), "check", *arguments], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(process.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024, stderr)


def _write(directory: Path, name: str, text: str) -> list[str]:
    (directory / name).write_text(text, encoding="utf-8")
    return [name]


def _huge_string(directory: Path) -> list[str]:
    with (directory / "huge.json").open("w", encoding="utf-8") as handle:
        handle.write('{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "')
        chunk = "x" * (1024 * 1024)
        for _ in range(100):  # a 100 MB string
            handle.write(chunk)
        handle.write('"}}}}')
    return ["huge.json"]


def _fifo(directory: Path) -> list[str]:
    os.mkfifo(directory / "pipe.json")
    return ["pipe.json"]


def _manifest_pointing_outside(template_file: str) -> Callable[[Path], list[str]]:
    def make(directory: Path) -> list[str]:
        assembly = directory / "cdk.out"
        assembly.mkdir()
        (assembly / "manifest.json").write_text(json.dumps({"artifacts": {"S": {
            "type": "aws:cloudformation:stack", "properties": {"templateFile": template_file}}}}))
        return ["cdk.out"]

    return make


def _fifo_in_assembly(directory: Path) -> list[str]:
    assembly = directory / "cdk.out"
    assembly.mkdir()
    os.mkfifo(assembly / "S.template.json")
    (assembly / "manifest.json").write_text(json.dumps({"artifacts": {"S": {
        "type": "aws:cloudformation:stack", "properties": {"templateFile": "S.template.json"}}}}))
    return ["cdk.out"]


BAD_INPUT: dict[str, Callable[[Path], list[str]]] = {
    "YAML !!float x": lambda d: _write(d, "t.yaml", "Resources: {}\nA: !!float x\n"),
    "YAML !!int x": lambda d: _write(d, "t.yaml", "Resources: {}\nA: !!int x\n"),
    "YAML !!bool x": lambda d: _write(d, "t.yaml", "Resources: {}\nA: !!bool x\n"),
    "YAML !!timestamp x": lambda d: _write(d, "t.yaml", "Resources: {}\nA: !!timestamp x\n"),
    "YAML nested 250 deep": lambda d: _write(d, "t.yaml", "Resources: {}\nA: " + "[" * 250 + "]" * 250 + "\n"),
    "YAML nested 250 deep (block style)": lambda d: _write(
        d, "t.yaml", "Resources: {}\n" + "".join(f"{'  ' * level}k{level}:\n" for level in range(250)) + "  " * 250
        + "v: 1\n"),
    "JSON nested 100,000 deep": lambda d: _write(d, "t.json", '{"A": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    "YAML aliases (a billion laughs)": lambda d: _write(d, "t.yaml", BILLION_LAUGHS),
    "100 MB string": _huge_string,
    "FIFO given as a template": _fifo,
    "FIFO named by a manifest": _fifo_in_assembly,
    "manifest naming ../../etc/passwd": _manifest_pointing_outside("../../etc/passwd"),
    "manifest naming /proc/self/environ": _manifest_pointing_outside("/proc/self/environ"),
}


def main() -> int:
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="eulagate-bad-input-") as temporary:
        work = Path(temporary)
        baseline_directory = work / "baseline"
        baseline_directory.mkdir()
        baseline = run_check(_write(baseline_directory, "small.json", SMALL), baseline_directory)
        print(f"{'case':40} {'exit':>4} {'seconds':>8} {'x base':>7} {'max RSS MB':>10}  message")
        print(f"{'baseline: one small template':40} {baseline.code:>4} {baseline.seconds:>8.2f} {1:>7.1f} "
              f"{baseline.rss_mb:>10.0f}")
        for name, make in BAD_INPUT.items():
            directory = work / f"case{len(failures)}-{abs(hash(name))}"
            directory.mkdir()
            result = run_check(make(directory), directory)
            line = result.stderr.strip().replace(str(directory) + "/", "")
            print(f"{name:40} {result.code:>4} {result.seconds:>8.2f} {result.seconds / baseline.seconds:>7.1f} "
                  f"{result.rss_mb:>10.0f}  {line[:90]}")
            if result.code != 2 or result.stderr.count("\n") != 1 or "Traceback" in result.stderr:
                failures.append(f"{name}: exit {result.code}, stderr {result.stderr!r:.200}")
            if result.seconds > MAX_SECONDS or result.rss_mb > MAX_RSS_MB:
                failures.append(f"{name}: {result.seconds:.1f} s, {result.rss_mb:.0f} MB")
            shutil.rmtree(directory)
        many = work / "many"
        many.mkdir()
        names = [name for index in range(1000) for name in _write(many, f"t{index:04}.json", SMALL)]
        result = run_check(names, many)
        print(f"{'1,000 template paths':40} {result.code:>4} {result.seconds:>8.2f} "
              f"{result.seconds / baseline.seconds:>7.1f} {result.rss_mb:>10.0f}")
        if result.code != 0 or result.seconds > MAX_THOUSAND_PATHS_SECONDS:
            failures.append(f"1,000 paths: exit {result.code} in {result.seconds:.2f} s")
    print(f"targets: exit 2 with one line, <= {MAX_SECONDS:.0f} s and <= {MAX_RSS_MB:.0f} MB each; "
          f"1,000 paths <= {MAX_THOUSAND_PATHS_SECONDS:.0f} s")
    for failure in failures:
        print(f"MISSED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
