"""The rules' registry and their documentation stay in step with the code (cfn-lint and cdk-nag style)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import constructs_lib.rules
from constructs_lib.rules import RULES, Rule

RULES_DOC = Path(__file__).parents[3] / "docs" / "rules.md"
_TABLE_ROW = re.compile(r"^\| (EULA\d{3}) \| (error|warning) \|", re.MULTILINE)


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for subclass in list(found):
        found |= _all_subclasses(subclass)
    return found


def test_every_rule_class_is_registered_once() -> None:
    for module in pkgutil.iter_modules(constructs_lib.rules.__path__):
        importlib.import_module(f"constructs_lib.rules.{module.name}")
    defined = {cls for cls in _all_subclasses(Rule) if cls.__module__.startswith("constructs_lib.rules.")}
    assert defined == set(RULES)
    assert len({rule.id for rule in RULES}) == len(RULES)


def test_the_rules_table_in_docs_lists_each_rule_with_its_severity() -> None:
    documented = dict(_TABLE_ROW.findall(RULES_DOC.read_text(encoding="utf-8")))
    assert documented == {rule.id: rule.severity for rule in RULES}


def test_each_rule_module_is_named_in_docs() -> None:
    text = RULES_DOC.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"`{rule.__module__.rsplit('.', 1)[-1]}.py`" in text, rule.id
