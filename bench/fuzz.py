"""The fuzz test at scale: many more templates, model tables and hook events than the suite runs, with fresh
seeds, each giving one line and exit 2 or a verdict, never a traceback (tests/support/fuzz_inputs.py).

    .venv/bin/python bench/fuzz.py                  # 5,000 of each kind
    .venv/bin/python bench/fuzz.py --examples 20000 --seed 7

Prints, per kind, the examples run, how many ended in exit 0/1/2, the time per example against a baseline
measured in the same run (`eulagate check` of one small template, in process), and the first problems found
with a way to reproduce them. Exits 1 when any example breaks the property.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.fuzz_inputs import (  # noqa: E402 - after the path is set
    hook_events,
    hook_problem,
    outcome,
    problem,
    table_texts,
    template_texts,
    write,
)

SMALL = '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}'
SHOWN = 5


def baseline_seconds(directory: Path, runs: int = 200) -> float:
    path = write(directory, "small.json", SMALL)
    started = time.perf_counter()
    for _ in range(runs):
        outcome(["check", str(path)])
    return (time.perf_counter() - started) / runs


def fuzz(name: str, strategy: st.SearchStrategy[str], check: Callable[[str, Path], tuple[str, str | None]],
         examples: int, seed: int, directory: Path) -> tuple[collections.Counter[str], list[str], float]:
    codes: collections.Counter[str] = collections.Counter()
    problems: list[str] = []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(text=strategy)
    def run(text: str) -> None:
        code, found = check(text, directory)
        codes[code] += 1
        if found:
            problems.append(f"{name}: {found}\n  input: {text[:500]!r}")

    started = time.perf_counter()
    random.seed(seed)
    run._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    run()
    return codes, problems, (time.perf_counter() - started) / max(examples, 1)


def check_template(suffix: str) -> Callable[[str, Path], tuple[str, str | None]]:
    def check(text: str, directory: Path) -> tuple[str, str | None]:
        result = outcome(["check", str(write(directory, f"template{suffix}", text))])
        return f"exit {result.code}", problem(result)

    return check


def check_table(text: str, directory: Path) -> tuple[str, str | None]:
    result = outcome(["plan", str(write(directory, "models.yaml", text))])
    return f"exit {result.code}", problem(result)


def check_event(text: str, directory: Path) -> tuple[str, str | None]:
    found = hook_problem(text, directory)
    return ("broken" if found else "answered"), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="examples of each kind (default 5,000)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="the run's seed (default: the time)")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="eulagate-fuzz-"))
    base = baseline_seconds(directory)
    print(f"seed {args.seed}; baseline: `eulagate check` of one small template, {base * 1000:.2f} ms in process")
    kinds = (("templates (.json)", template_texts(), check_template(".json")),
             ("templates (.yaml)", template_texts(), check_template(".yaml")),
             ("model tables", table_texts(), check_table),
             ("hook events", hook_events(), check_event))
    failures: list[str] = []
    for name, strategy, check in kinds:
        codes, problems, per_example = fuzz(name, strategy, check, args.examples, args.seed, directory)
        exits = ", ".join(f"{code}: {count}" for code, count in sorted(codes.items()))
        print(f"{name:18} {sum(codes.values()):>7,} examples ({exits}); {per_example * 1000:.2f} ms each, "
              f"{per_example / base:.1f}x the baseline; {len(problems)} problem(s)")
        failures.extend(problems)
    for shown in failures[:SHOWN]:
        print(f"\n{shown}")
    if failures:
        print(f"\n{len(failures)} example(s) broke the property (seed {args.seed})")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
