"""Fuzzing every file a user or CloudFormation hands us: templates (``eulagate check``), model tables
(``eulagate plan``, the loader ``cdk synth`` uses too) and hook events (``eulagate hook simulate`` and the handler).
Each gives one line and exit 2, or a verdict; never a traceback (tests/support/fuzz_inputs.py).

A few thousand examples here, derandomized so CI is reproducible and bounded; ``bench/fuzz.py`` runs many more
with fresh seeds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.support.fuzz_inputs import hook_events, hook_problem, outcome, problem, table_texts, template_texts, write

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])


@FUZZ
@given(text=template_texts())
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_any_template_gives_a_verdict_or_one_line(text: str, suffix: str, tmp_path: Path) -> None:
    path = write(tmp_path, f"template{suffix}", text)
    result = outcome(["check", str(path)])
    assert problem(result) is None, problem(result)
    if result.code == 2:
        assert str(path) in result.stderr


@FUZZ
@given(text=table_texts())
def test_any_table_gives_a_plan_or_one_line(text: str, tmp_path: Path) -> None:
    path = write(tmp_path, "models.yaml", text)
    result = outcome(["plan", str(path)])
    assert problem(result) is None, problem(result)
    if result.code == 2:
        assert str(path) in result.stderr


@settings(FUZZ, max_examples=500)
@given(text=hook_events())
def test_any_hook_event_gives_a_response_or_one_line(text: str, tmp_path: Path) -> None:
    assert hook_problem(text, tmp_path) is None
