#!/usr/bin/env python3
"""The rule engine's differential soundness check, at scale: many more templates than the test suite reads.

Generates templates with hypothesis (``tests/support/cfn_soundness.py``), deploys each one concretely under
every combination of its unknowns (``tests/support/cfn_concrete.py``) and checks that

- soundness: every resource some deployment creates with a gated artifact and no acceptance is an error of the
  strict engine (``check_template(..., strict=True)``) and a finding of the default one;
- precision: a template whose unknowns are all bounded gives no error unless some deployment violates;
- the model chosen by a parameter, acceptance per model (``tests/support/cfn_models_by_parameter.py``): no
  error when every deployment accepts (precision), exactly the violating resources otherwise (soundness); the
  same choice made in a parent that passes the model and its acceptance to a nested template, judged as the
  parent's deployments pass them (``--pattern-examples`` of each too).

    .venv/bin/python bench/soundness.py --examples 5000 [--precision-examples 2000] [--pattern-examples 2000]

Prints the counts (templates, concrete deployments, violating templates) and exits 1 on a counterexample.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, settings

from constructs_lib.catalog import Catalog
from constructs_lib.rules import check_template
from tests.support.cfn_models_by_parameter import (
    models_by_parameter,
    nested_errors,
    nested_models_by_parameter,
    nested_violating,
    violating,
)
from tests.support.cfn_soundness import reported, templates, violations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="templates for the soundness property")
    parser.add_argument("--precision-examples", type=int, default=None,
                        help="templates for the precision property (default: half of --examples)")
    parser.add_argument("--pattern-examples", type=int, default=None,
                        help="templates of each models-by-parameter property (default: half of --examples)")
    arguments = parser.parse_args()
    catalog = Catalog.default()
    counts = {"templates": 0, "deployments": 0, "violating templates": 0, "violating resources": 0,
              "bounded templates": 0, "bounded violating templates": 0,
              "models-by-parameter accepted templates": 0, "models-by-parameter violating templates": 0,
              "nested accepted pairs": 0, "nested violating pairs": 0}
    pattern_settings = settings(max_examples=arguments.pattern_examples or max(1, arguments.examples // 2),
                                deadline=None, database=None, suppress_health_check=list(HealthCheck))

    @settings(max_examples=arguments.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(template=templates())
    def soundness(template: dict) -> None:
        outcome = violations(template, catalog)
        violated = outcome.violated
        counts["templates"] += 1
        counts["deployments"] += outcome.tried
        counts["violating templates"] += bool(violated)
        counts["violating resources"] += len(violated)
        strict = check_template(template, catalog=catalog, strict=True)
        lenient = check_template(template, catalog=catalog)
        for logical_id in violated:
            assert reported(strict, logical_id, errors_only=True), (logical_id, template)
            assert reported(lenient, logical_id, errors_only=False), (logical_id, template)

    @settings(max_examples=arguments.precision_examples or max(1, arguments.examples // 2), deadline=None,
              database=None, suppress_health_check=list(HealthCheck))
    @given(template=templates(bounded=True))
    def precision(template: dict) -> None:
        outcome = violations(template, catalog)
        counts["bounded templates"] += 1
        counts["deployments"] += outcome.tried
        counts["bounded violating templates"] += bool(outcome.violated)
        errors = {finding.logical_id for finding in check_template(template, catalog=catalog)
                  if finding.severity == "error"}
        assert errors >= outcome.violated and errors - outcome.violated <= outcome.failed, (errors, template)

    @pattern_settings
    @given(template=models_by_parameter(all_accepted=True))
    def pattern_precision(template: dict) -> None:
        counts["models-by-parameter accepted templates"] += 1
        assert violating(template, catalog) == set(), template
        errors = [finding for finding in check_template(template, catalog=catalog) if finding.severity == "error"]
        assert errors == [], (errors, template)

    @pattern_settings
    @given(template=models_by_parameter(all_accepted=False))
    def pattern_soundness(template: dict) -> None:
        counts["models-by-parameter violating templates"] += 1
        violated = violating(template, catalog)
        errors = {finding.logical_id for finding in check_template(template, catalog=catalog)
                  if finding.severity == "error"}
        assert violated and errors == violated, (errors, violated, template)

    @pattern_settings
    @given(files=nested_models_by_parameter(all_accepted=True))
    def nested_precision(files: dict) -> None:
        counts["nested accepted pairs"] += 1
        assert nested_violating(files, catalog) == set(), files
        assert nested_errors(files, catalog) == set(), files

    @pattern_settings
    @given(files=nested_models_by_parameter(all_accepted=False))
    def nested_soundness(files: dict) -> None:
        counts["nested violating pairs"] += 1
        violated = nested_violating(files, catalog)
        assert violated and nested_errors(files, catalog) == violated, (violated, files)

    started = time.perf_counter()
    failed = False
    for name, run in (("soundness", soundness), ("precision", precision),
                      ("models-by-parameter precision", pattern_precision),
                      ("models-by-parameter soundness", pattern_soundness),
                      ("nested precision", nested_precision), ("nested soundness", nested_soundness)):
        try:
            run()
        except AssertionError as error:
            print(f"{name}: COUNTEREXAMPLE {error}"[:4000])
            failed = True
    print(", ".join(f"{value} {name}" for name, value in counts.items())
          + f" in {time.perf_counter() - started:.0f} s: " + ("FAILED" if failed else "no counterexample"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
