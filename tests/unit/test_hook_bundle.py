"""The hook's Lambda code as the function gets it: the staged bundle alone (no site-packages, no aws_cdk) runs
the handler on the sample events; the zip for the organisation rollout is the same bytes every time."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from constructs_lib.hook.bundle import bundle_files, bundle_key, stage_bundle, write_bundle_zip

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "examples" / "hook-events"

# Run with only the bundle on sys.path (-I: no site-packages, no PYTHONPATH, no user site), as in Lambda.
IN_BUNDLE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from constructs_lib.hook.handler import handle
results = [handle(json.load(open(path))) for path in sys.argv[2:]]
import yaml
from jsonata.parser import Parser
Parser().parse("'s3://' & $bucket")  # Step Functions' JSONata is read by the bundled parser
print(json.dumps({
    "statuses": [[r["hookStatus"], r.get("errorCode")] for r in results],
    "jsii": sorted(name for name in sys.modules if name.split(".")[0] in ("aws_cdk", "jsii", "constructs")),
    # The venv's editable install would find a module the bundle lacks: every one must come from the bundle.
    "outside": sorted(name for name, module in sys.modules.items() if name.startswith("constructs_lib")
                      and not (getattr(module, "__file__", None) or sys.argv[1]).startswith(sys.argv[1])),
    "libyaml": yaml.__with_libyaml__,
    "yaml_from": yaml.__file__,
}))
"""


def test_bundle_alone_runs_the_handler_without_jsii() -> None:
    bundle = stage_bundle()
    events = [EVENTS / "llama2-model-unaccepted.json", EVENTS / "llama2-model-accepted.json"]
    result = subprocess.run([sys.executable, "-I", "-c", IN_BUNDLE, str(bundle), *map(str, events)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["statuses"] == [["FAILED", "NonCompliant"], ["SUCCESS", None]]
    assert report["jsii"] == []
    assert report["outside"] == []
    assert report["libyaml"] is False  # the pure-Python loader: the C extension is built for this machine
    assert report["yaml_from"].startswith(str(bundle))


def test_bundle_holds_the_engine_and_catalog_and_nothing_jsii() -> None:
    names = {name for name, _ in bundle_files()}
    assert "constructs_lib/hook/handler.py" in names
    assert "constructs_lib/catalog/data/jumpstart-catalog.json.gz" in names
    assert "constructs_lib/rules/engine.py" in names
    assert "yaml/__init__.py" in names
    assert {"jsonata/parser.py", "jsonata/LICENSE"} <= names
    assert not any(name.startswith(("constructs_lib/constructs/", "constructs_lib/cli/", "stacks/"))
                   for name in names)
    assert not any(name.endswith((".so", ".pyc")) for name in names)


def test_bundle_zip_is_reproducible(tmp_path: Path) -> None:
    first = write_bundle_zip(tmp_path / "a.zip").read_bytes()
    second = write_bundle_zip(tmp_path / "b.zip").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert sorted(archive.namelist()) == sorted(name for name, _ in bundle_files())
    assert bundle_key().startswith("eulagate-hook/") and bundle_key().endswith(".zip")
