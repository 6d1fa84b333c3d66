"""``eulagate models refresh`` against a local moto S3 holding the raw JumpStart spec samples.

The bucket ``jumpstart-cache-prod-us-east-1`` gets ``models_manifest.local.json`` as ``models_manifest.json`` and
each sample under the key that manifest names. The catalog in use is a temporary copy (``EULAGATE_CATALOG``);
every failure must leave it byte-for-byte unchanged and print exactly one error line.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.catalog import DEFAULT_CATALOG_PATH, Catalog, ModelSpec
from constructs_lib.catalog.build import DEFAULT_JUMPSTART_DIR, SAMPLES_DIR_NAME
from constructs_lib.cli import main
from constructs_lib.cli.models import ProgressBar
from tests.support.moto_server import MotoServer

SAMPLES = DEFAULT_JUMPSTART_DIR / SAMPLES_DIR_NAME
BUCKET = "jumpstart-cache-prod-us-east-1"
LOCAL_MANIFEST = json.loads((SAMPLES / "models_manifest.local.json").read_text())
PROGRESS_PREFIX = "fetching JumpStart specs"
SHIPPED = Catalog.from_file(DEFAULT_CATALOG_PATH)  # the tests point EULAGATE_CATALOG at temporary copies
# A refresh from the samples keeps the 6 sampled models and every Autopilot or gated model the bucket lacks.
EXPECTED_MODELS = len(
    {entry["model_id"] for entry in LOCAL_MANIFEST}
    | {spec.model_id for spec in SHIPPED if spec.autopilot_supported or spec.gated}
)


class Bucket:
    def __init__(self, server: MotoServer) -> None:
        self.s3 = server.client("s3")

    def put(self, key: str, body: bytes | str | Any) -> None:
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)

    def put_manifest(self, entries: list[dict[str, Any]]) -> None:
        self.put("models_manifest.json", entries)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=BUCKET, Key=key)


@pytest.fixture
def bucket(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    moto_server.reset()
    for name, value in moto_server.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    bucket = Bucket(moto_server)
    bucket.s3.create_bucket(Bucket=BUCKET)
    bucket.put("models_manifest.json", (SAMPLES / "models_manifest.local.json").read_bytes())
    for entry in LOCAL_MANIFEST:
        bucket.put(entry["spec_key"], (SAMPLES / entry["spec_key"]).read_bytes())
    return bucket


def current_catalog() -> Catalog:
    """The shipped catalog, with Llama 3.1 70B marked ungated and MobileNet added as gated: the refresh must flip
    both, and report them."""
    shipped = SHIPPED
    specs = [
        dataclasses.replace(spec, gated=False, eula_key=None)
        if spec.model_id == "meta-textgeneration-llama-3-1-70b" else spec
        for spec in shipped
    ]
    specs.append(ModelSpec(model_id="pytorch-ic-mobilenet-v2", version="1.0.0", gated=True, eula_key="x.txt",
                           default_instance_type="ml.m5.large"))
    return Catalog(specs)


@pytest.fixture
def catalog_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "catalog.json"
    current_catalog().write(path)
    monkeypatch.setenv("EULAGATE_CATALOG", str(path))
    return path


def refresh(*extra: str) -> int:
    return main(["models", "refresh", "--region", "us-east-1", *extra])


def error_line(stderr: str) -> str:
    """The one line that is not progress output."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line and not line.startswith(PROGRESS_PREFIX)]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("eulagate models: ")
    return lines[0]


def section(stdout: str, title: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{title} ("))
    items = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        items.append(line.strip())
    return items


def test_refresh_rebuilds_the_catalog_in_use(
    bucket: Bucket, catalog_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refresh() == 0
    out, err = capsys.readouterr()
    refreshed = Catalog.from_file(catalog_file)
    sample_ids = {entry["model_id"] for entry in LOCAL_MANIFEST}
    # The 6 sampled models, plus the Autopilot and gated models the bucket does not list, kept from the current
    # catalog (a gated model must stay known to the rule engine).
    kept_ids = {spec.model_id for spec in SHIPPED if spec.autopilot_supported or spec.gated} - sample_ids
    assert {spec.model_id for spec in refreshed} == sample_ids | kept_ids
    assert len(refreshed) == EXPECTED_MODELS
    assert {spec.base_model_name for spec in refreshed.autopilot_models()} == {
        spec.base_model_name for spec in SHIPPED.autopilot_models()
    }
    llama = refreshed.get("Llama2-7B")
    assert (llama.model_id, llama.version) == ("meta-textgeneration-llama-2-7b", "3.0.0")  # from the bucket
    newer = refreshed.get("meta-textgeneration-llama-3-1-70b")
    assert newer.gated and newer.deployable and newer.training is not None
    assert "djl-inference" in newer.image_uri("us-east-1")  # from the top-ranked inference config
    assert refreshed.get("openai-reasoning-gpt-oss-20b").deployable

    assert section(out, "added") == ["openai-reasoning-gpt-oss-20b"]
    assert section(out, "newly gated") == ["meta-textgeneration-llama-3-1-70b"]
    assert section(out, "no longer gated") == ["pytorch-ic-mobilenet-v2"]
    before = current_catalog()
    gone = sorted({spec.model_id for spec in before} - {spec.model_id for spec in refreshed})
    assert not any(before.get(model_id).gated for model_id in gone)
    assert section(out, "removed") == gone
    assert len(section(out, "kept from the current catalog")) == len(kept_ids)
    assert f"wrote {catalog_file}: {EXPECTED_MODELS} models from s3://{BUCKET}" in out
    # Progress goes to stderr; without a terminal it is a few plain lines, the last one complete.
    progress = err.strip().splitlines()
    assert 1 <= len(progress) <= 4 and progress[-1] == f"{PROGRESS_PREFIX}: 6/6"


def test_refresh_dates_its_snapshot_and_keeps_every_known_model_package(
    bucket: Bucket, catalog_file: Path
) -> None:
    assert refresh() == 0
    refreshed = Catalog.from_file(catalog_file)
    assert refreshed.snapshot is not None
    assert refreshed.snapshot.source == f"s3://{BUCKET}/models_manifest.json"
    assert refreshed.snapshot.date == datetime.datetime.now(datetime.UTC).date().isoformat()
    # The bucket's llama-2-7b-f 2.0.4 lists 6 packages; the older versions' packages the catalog knew stay known.
    chat = refreshed.get("meta-textgeneration-llama-2-7b-f")
    assert chat.version == "2.0.4" and chat.deploys_through_package
    for region, arns in SHIPPED.get("meta-textgeneration-llama-2-7b-f").all_model_package_arns.items():
        assert set(arns) <= set(chat.all_model_package_arns[region])
        assert all(refreshed.model_for_package_arn(arn) is chat for arn in arns)


def test_a_gzip_output_is_compressed(bucket: Bucket, catalog_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "refreshed.json.gz"
    assert refresh("--output", str(output)) == 0
    assert output.read_bytes()[:2] == b"\x1f\x8b" and len(Catalog.from_file(output)) == EXPECTED_MODELS


def test_output_goes_elsewhere_and_leaves_the_catalog_in_use(
    bucket: Bucket, catalog_file: Path, tmp_path: Path
) -> None:
    before = catalog_file.read_bytes()
    output = tmp_path / "out" / "refreshed.json"
    assert refresh("--output", str(output)) == 0
    assert catalog_file.read_bytes() == before
    assert len(Catalog.from_file(output)) == EXPECTED_MODELS


def test_newest_non_deprecated_version_wins_and_deprecated_specs_are_skipped(
    bucket: Bucket, catalog_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    llama31 = "meta-textgeneration-llama-3-1-70b"
    gpt = next(entry for entry in LOCAL_MANIFEST if entry["model_id"] == "openai-reasoning-gpt-oss-20b")
    deprecated_gpt = json.loads((SAMPLES / gpt["spec_key"]).read_text()) | {"deprecated": True}
    bucket.put(gpt["spec_key"], deprecated_gpt)
    # Neither extra entry has a spec in the bucket: choosing either one would fail the refresh.
    bucket.put_manifest([
        *LOCAL_MANIFEST,
        {"model_id": llama31, "version": "2.9.0", "spec_key": "older.json"},  # newer than 2.16.2 only as text
        {"model_id": llama31, "version": "3.0.0", "spec_key": "deprecated.json", "deprecated": True},
        {"model_id": "retired-model", "version": "1.0.0", "spec_key": "retired.json", "deprecated": True},
    ])
    assert refresh() == 0
    out = capsys.readouterr().out
    refreshed = Catalog.from_file(catalog_file)
    assert refreshed.get(llama31).version == "2.16.2"
    assert refreshed.find("openai-reasoning-gpt-oss-20b") is None
    assert refreshed.find("retired-model") is None
    assert "2 deprecated skipped" in out
    assert section(out, "added") == []


def corrupt_spec(bucket: Bucket) -> str:
    key = LOCAL_MANIFEST[1]["spec_key"]
    bucket.put(key, '{"model_id": "openai-reasoning-gpt-oss-20b", "version": ')
    return f"s3://{BUCKET}/{key} is not valid JSON"


def misshapen_spec(bucket: Bucket) -> str:
    entry = LOCAL_MANIFEST[2]
    document = json.loads((SAMPLES / entry["spec_key"]).read_text())
    bucket.put(entry["spec_key"], document | {"supported_inference_instance_types": "ml.m5.large"})
    return (f"malformed JumpStart spec s3://{BUCKET}/{entry['spec_key']}: field "
            "'supported_inference_instance_types' must be a list of strings")


def mislabelled_spec(bucket: Bucket) -> str:
    entry = LOCAL_MANIFEST[0]
    document = json.loads((SAMPLES / entry["spec_key"]).read_text())
    bucket.put(entry["spec_key"], document | {"version": "9.9.9"})
    return f"describes {entry['model_id']} 9.9.9, but the manifest lists it for {entry['model_id']} {entry['version']}"


def missing_spec(bucket: Bucket) -> str:
    key = LOCAL_MANIFEST[3]["spec_key"]
    bucket.delete(key)
    return f"s3://{BUCKET}/{key} does not exist"


def broken_manifest(bucket: Bucket) -> str:
    bucket.put_manifest([{"model_id": "m", "version": 1}])
    return f"s3://{BUCKET}/models_manifest.json: entry 0 needs string fields model_id, version and spec_key"


def unreachable_server(bucket: Bucket) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{sock.getsockname()[1]}"  # restored by monkeypatch
    return f"cannot read s3://{BUCKET}/models_manifest.json: Could not connect to the endpoint URL"


@pytest.mark.parametrize(
    "break_it", [corrupt_spec, misshapen_spec, mislabelled_spec, missing_spec, broken_manifest, unreachable_server]
)
def test_failures_are_one_line_exit_2_and_leave_the_catalog_untouched(
    bucket: Bucket, catalog_file: Path, capsys: pytest.CaptureFixture[str], break_it: Any
) -> None:
    before = catalog_file.read_bytes()
    expected = break_it(bucket)
    assert refresh() == 2
    out, err = capsys.readouterr()
    assert expected in error_line(err)
    assert out == ""
    assert catalog_file.read_bytes() == before
    assert sorted(path.name for path in catalog_file.parent.iterdir()) == ["catalog.json"]  # no temp file left


def test_a_region_without_a_jumpstart_bucket(
    bucket: Bucket, catalog_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = catalog_file.read_bytes()
    assert main(["models", "refresh", "--region", "eu-west-3"]) == 2
    assert "bucket jumpstart-cache-prod-eu-west-3 does not exist" in error_line(capsys.readouterr().err)
    assert catalog_file.read_bytes() == before


def test_a_bad_region_name_is_refused_before_any_request(
    bucket: Bucket, catalog_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "refresh", "--region", "US East 1"]) == 2
    assert "'US East 1' is not an AWS region name" in error_line(capsys.readouterr().err)


def test_an_unwritable_output_is_one_line_and_leaves_nothing_behind(
    bucket: Bucket, catalog_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "a-directory"
    target.mkdir()
    assert refresh("--output", str(target)) == 2
    out, err = capsys.readouterr()
    assert f"cannot write the catalog to {target}: Is a directory" in error_line(err)
    assert out == ""
    assert list(target.iterdir()) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-directory", "catalog.json"]


def test_installed_cli(bucket: Bucket, catalog_file: Path, moto_server: MotoServer) -> None:
    env = {**os.environ, **moto_server.environment(), "EULAGATE_CATALOG": str(catalog_file)}
    eulagate = Path(sys.executable).with_name("eulagate")
    completed = subprocess.run(
        [str(eulagate), "models", "refresh", "--region", "us-east-1"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "newly gated (1):\n  meta-textgeneration-llama-3-1-70b" in completed.stdout
    assert len(Catalog.from_file(catalog_file)) == EXPECTED_MODELS


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_in_place_on_a_terminal() -> None:
    terminal = Terminal()
    bar = ProgressBar(terminal, "fetching")
    for done in range(1, 5):
        bar(done, 4)
    bar.close()
    text = terminal.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")  # one line, redrawn with carriage returns
    frames = text.rstrip("\n").split("\r")[1:]
    assert len(frames) == 4
    assert frames[0] == "fetching [" + "#" * 7 + "." * 23 + "] 1/4"
    assert frames[-1] == "fetching [" + "#" * 30 + "] 4/4"


def test_progress_prints_a_few_lines_to_a_pipe() -> None:
    pipe = io.StringIO()
    bar = ProgressBar(pipe, "fetching")
    for done in range(1, 101):
        bar(done, 100)
    bar.close()
    assert pipe.getvalue().splitlines() == [f"fetching: {n}/100" for n in (25, 50, 75, 100)]
