"""JUnit XML: a test suite per template, a test case per resource the rules apply to; errors fail it."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections import defaultdict

from constructs_lib.cli.reporters import Report
from constructs_lib.rules import Finding


def _describe(finding: Finding) -> str:
    return f"{finding.rule_id} ({finding.severity}): {finding.message}\nFix: {finding.fix}"


def render(report: Report) -> str:
    root = ElementTree.Element("testsuites", name="eulagate check", tests="0", failures="0", errors="0")
    total_tests = total_failures = 0
    for scan in report.scans:
        by_resource: dict[str, list[Finding]] = defaultdict(list)
        for finding in scan.findings:
            by_resource[finding.logical_id].append(finding)
        failures = sum(any(f.severity == "error" for f in by_resource[lid]) for lid, _ in scan.checked)
        suite = ElementTree.SubElement(root, "testsuite", name=scan.template, tests=str(len(scan.checked)),
                                       failures=str(failures), errors="0", skipped="0")
        for logical_id, resource_type in scan.checked:
            case = ElementTree.SubElement(suite, "testcase", classname=scan.template,
                                          name=f"{logical_id} ({resource_type})")
            findings = by_resource.get(logical_id, [])
            errors = [f for f in findings if f.severity == "error"]
            if errors:
                failure = ElementTree.SubElement(case, "failure", type=errors[0].rule_id,
                                                 message=errors[0].message)
                failure.text = "\n\n".join(_describe(f) for f in errors)
            warnings = [f for f in findings if f.severity != "error"]
            if warnings:
                ElementTree.SubElement(case, "system-out").text = "\n\n".join(_describe(f) for f in warnings)
        total_tests += len(scan.checked)
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
