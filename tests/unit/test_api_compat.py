"""The 0.1 spellings keep working for one minor version, each with a ``DeprecationWarning`` that says what to
write instead; every error of the package is an ``EulaGateError``; importing the package changes no global state
but the one documented environment default (CHANGELOG.md, 0.2.0)."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

import constructs_lib
from constructs_lib import (
    AutoMLFineTuningJob,
    FineTuningJobProps,
    JumpStartFineTuningJob,
    VpcPlacement,
)
from constructs_lib.client import runtime
from constructs_lib.errors import EulaGateError

pytestmark = pytest.mark.synth

ROOT = Path(__file__).resolve().parents[2]
NODE_BANNER = "end-of-life"
JOBS: list[tuple[type[Any], dict[str, Any]]] = [
    (AutoMLFineTuningJob, {"base_model": "Llama2-7BChat", "content_type": "x-application/vnd.amazon+parquet"}),
    (JumpStartFineTuningJob, {"model": "meta-textgeneration-llama-2-7b-f", "instance_count": 2}),
]
PROPS: dict[str, Any] = {
    "training_data": "s3://tuning-data/train/", "output_path": "s3://tuning-output/chat/", "accept_eula": True,
    "hyperparameters": None, "wait_for_completion": True, "network_isolation": True,
}


def job_template(construct: type[Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    stack = cdk.Stack(cdk.App(), "Jobs", env=cdk.Environment(account="111122223333", region="us-east-1"))
    construct(stack, "Job", *args, **kwargs)
    return dict(assertions.Template.from_stack(stack).to_json())


@pytest.mark.parametrize(("construct", "own"), JOBS, ids=[job.__name__ for job, _ in JOBS])
def test_a_positional_props_object_builds_the_same_job_with_a_warning(
    construct: type[Any], own: dict[str, Any],
) -> None:
    with pytest.warns(DeprecationWarning) as warned:
        old = job_template(construct, FineTuningJobProps(**PROPS), **own)
    assert old == job_template(construct, **PROPS, **own)
    [warning] = [w for w in warned if w.category is DeprecationWarning]
    assert str(warning.message) == (
        f"{construct.__name__}(scope, id, FineTuningJobProps(...), ...) is deprecated since 0.2.0 and goes in "
        f"0.3.0: pass the props as keywords, {construct.__name__}(scope, id, training_data=..., output_path=..., "
        "accept_eula=..., ...)"
    )
    assert warning.filename == __file__  # it points at the caller's line


def test_props_by_name_warn_too_and_a_prop_given_twice_is_refused(scratch: cdk.Stack) -> None:
    props = FineTuningJobProps(**PROPS)
    with pytest.warns(DeprecationWarning, match="pass the props as keywords"):
        AutoMLFineTuningJob(scratch, "ByName", props=props, base_model="Llama2-7BChat")
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="accept_eula both in FineTuningJobProps"):
        AutoMLFineTuningJob(scratch, "Twice", props, base_model="Llama2-7BChat", accept_eula=False)
    with pytest.raises(TypeError, match="takes scope, id and keyword arguments only; got dict"):
        AutoMLFineTuningJob(scratch, "Dict", dict(PROPS), base_model="Llama2-7BChat")


def test_positional_vpc_placement_warns_and_means_the_same() -> None:
    ids = (("subnet-0123456789abcdef0",), ("sg-0123456789abcdef0",))
    with pytest.warns(DeprecationWarning, match=r"name them, VpcPlacement\(subnet_ids=..., security_group_ids=...\)"):
        old = VpcPlacement(*ids)
    assert old == VpcPlacement(subnet_ids=ids[0], security_group_ids=ids[1])


def test_the_moved_runtime_module_warns_and_is_the_new_one() -> None:
    sys.modules.pop("constructs_lib.runtime", None)
    with pytest.warns(DeprecationWarning, match="import constructs_lib.client.runtime instead"):
        moved = importlib.import_module("constructs_lib.runtime")
    assert moved is runtime
    assert moved.InvocationError is runtime.InvocationError


def package_modules() -> list[str]:
    """Every module of the package but the Lambda handlers (files of their own bundle, run without the package)
    and the deprecated alias (tested above)."""
    return sorted(
        module.name for module in pkgutil.walk_packages(constructs_lib.__path__, "constructs_lib.")
        if ".handlers" not in module.name and module.name != "constructs_lib.runtime"
    )


# Not errors but signals, as KeyboardInterrupt is: the hook's evaluation deadline must cross every
# ``except Exception`` on its way out of the engine, and never leaves the hook's handler.
SIGNALS = {"constructs_lib.hook.handler.EvaluationTimeout"}


def test_every_error_the_package_defines_is_an_eulagate_error() -> None:
    errors = {
        f"{name}.{value.__name__}": value
        for name in package_modules()
        for value in vars(importlib.import_module(name)).values()
        if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == name
    }
    assert len(errors) > 20  # the walk found the package's errors
    assert set(errors) >= SIGNALS
    assert [name for name, error in errors.items()
            if not issubclass(error, EulaGateError) and name not in SIGNALS] == []


def run_python(code: str, tmp_path: Path, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "user_app.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    environment = {key: value for key, value in os.environ.items() if key != constructs_lib.NODE_BANNER_VARIABLE}
    environment.update(PYTHONPATH=str(ROOT), CDK_OUTDIR=str(tmp_path / "cdk.out"), **(env or {}))
    return subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=environment, capture_output=True,
                          text=True, timeout=300, check=False)


def test_importing_the_constructs_leaves_the_excepthook_alone_until_asked(tmp_path: Path) -> None:
    result = run_python("""
        import sys
        hook = sys.excepthook
        import constructs_lib.constructs.serving.jumpstart, constructs_lib.constructs.jobs.automl
        import constructs_lib.constructs.guard_hook
        assert sys.excepthook is hook, "importing the constructs replaced sys.excepthook"
        from constructs_lib import ConstructValidationError, install_one_line_errors
        install_one_line_errors()
        raise ConstructValidationError("App/Stack/Chat", "instance_type 'ml.x' is not offered; use ml.g5.2xlarge")
    """, tmp_path)
    assert (result.returncode, result.stderr) == (
        1, "user_app.py: App/Stack/Chat: instance_type 'ml.x' is not offered; use ml.g5.2xlarge\n")


USER_APP = """
    {first_import}
    import aws_cdk as cdk
    app = cdk.App()
    cdk.Stack(app, "Mine")
    app.synth()
"""


def test_a_user_app_that_imports_the_package_first_gets_no_node_banner(tmp_path: Path) -> None:
    quiet = run_python(USER_APP.format(first_import="import constructs_lib"), tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert NODE_BANNER not in quiet.stderr
    # the same app without the package shows the banner on this machine's Node 20 (so the check above can fail)
    loud = run_python(USER_APP.format(first_import=""), tmp_path)
    assert NODE_BANNER in loud.stderr


def test_a_node_version_the_user_chose_is_kept(tmp_path: Path) -> None:
    result = run_python("""
        import os
        import constructs_lib
        print(os.environ[constructs_lib.NODE_BANNER_VARIABLE])
    """, tmp_path, env={constructs_lib.NODE_BANNER_VARIABLE: "22"})
    assert result.stdout == "22\n"
