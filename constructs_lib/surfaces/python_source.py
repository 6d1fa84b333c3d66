"""Python scripts and notebooks: SageMaker SDK and boto3 calls read with ``ast``; nothing is ever run.

The reader walks the statements in order (a notebook's code cells one after another, function bodies after the
module, as they run when called) and keeps what each name holds: a literal (string, number, bool, dict, list),
an f-string (``Pieces``), an SDK object it knows (a ``JumpStartModel``, a boto3 client) or an ``Unknown``. Where
an ``if`` assigns a name differently in its branches, the name is an ``Unknown`` limited to the branches'
strings. A call found is one SageMaker request (``requests.py``), placed at the call's line and column:

- SDK v2: ``JumpStartModel(model_id).deploy(accept_eula=...)`` (and ``register``); ``JumpStartEstimator(model_id,
  environment={"accept_eula": "true"}).fit(accept_eula=...)``;
- SDK v3: ``ModelBuilder(model=<JumpStart id>)`` or ``ModelBuilder.from_jumpstart_config(...)``, then
  ``deploy(accept_eula=...)``; ``ModelTrainer.from_jumpstart_config(JumpStartConfig(model_id, accept_eula=...))``;
- boto3/aioboto3 clients: ``create_model``, ``create_training_job``, ``create_hyper_parameter_tuning_job``,
  ``create_auto_ml_job_v2``, ``create_inference_component``, ``create_optimization_job`` (the API request as
  written) and Bedrock's ``create_marketplace_model_endpoint`` (judged by its hub content ARN's model id).

What it cannot follow (a function's parameter, a value from a file, an f-string with a call) is unknown, and an
unknown model id is a warning that acceptance cannot be proven (docs/surfaces/python.md says the limits).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs_lib.rules import Finding
from constructs_lib.surfaces.requests import (
    DEFAULT_REGION,
    MODEL_ACCEPTANCE_PATH,
    TRAINING_ACCEPTANCE_PATH,
    Pieces,
    SurfaceRequest,
    SurfaceScan,
    Unknown,
    acceptance_spellings,
    model_artifact,
    model_request,
    scan_requests,
    training_request,
    unreadable_finding,
)

SURFACE = "python"
# A file is parsed only when it mentions one of these (lower-cased): no SageMaker call is spelt without them.
MARKERS = ("sagemaker", "jumpstart", "create_model", "create_auto_ml_job", "create_training_job",
           "create_hyper_parameter_tuning_job", "create_inference_component", "create_optimization_job",
           "create_marketplace_model_endpoint", "modelbuilder", "modeltrainer")
# boto3 methods whose keyword arguments are one SageMaker request, as the API spells it.
PASSTHROUGH_METHODS = {
    "create_model": "CreateModel",
    "create_training_job": "CreateTrainingJob",
    "create_hyper_parameter_tuning_job": "CreateHyperParameterTuningJob",
    "create_auto_ml_job_v2": "CreateAutoMLJobV2",
    "create_inference_component": "CreateInferenceComponent",
}
# What these SDK calls return is the user's own S3 (a bucket of their account, what they uploaded), never
# JumpStart's: a literal standing for it keeps a location built on it out of doubt.
OWN_BUCKET = "sagemaker-default-bucket-of-this-account"
OWN_LOCATION_METHODS = {"default_bucket": OWN_BUCKET, "upload_data": f"s3://{OWN_BUCKET}/uploaded",
                        "upload": f"s3://{OWN_BUCKET}/uploaded", "upload_string_as_file_body": f"s3://{OWN_BUCKET}/uploaded"}
# The keys that carry what each passthrough request deploys or fine-tunes (any of them in sight: it is judged).
_REQUEST_KEYS = {
    "create_model": frozenset({"PrimaryContainer", "Containers"}),
    "create_training_job": frozenset({"AlgorithmSpecification", "InputDataConfig", "Environment"}),
    "create_hyper_parameter_tuning_job": frozenset({"TrainingJobDefinition", "TrainingJobDefinitions"}),
    "create_auto_ml_job_v2": frozenset({"AutoMLProblemTypeConfig"}),
    "create_inference_component": frozenset({"Specification"}),
}
OPTIMIZATION_METHOD = "create_optimization_job"
MARKETPLACE_METHOD = "create_marketplace_model_endpoint"
_HUB_MODEL = re.compile(r"\Aarn:[^:]+:sagemaker:([a-z0-9-]*):[^:]*:hub-content/[^/]+/Model/([^/]+)")
_HUB_MODEL_PREFIX = re.compile(r"\Aarn:[^:]+:sagemaker:([a-z0-9-]*):[^:]*:hub-content/[^/]+/Model/\Z")
_DEPLOY_FIX = "pass accept_eula=True to {call}"
_MAX_DEPTH = 200


@dataclass(frozen=True)
class Dotted:
    """A module, class or function named by an import or a free name: ``sagemaker.jumpstart.model.JumpStartModel``."""

    name: str

    @property
    def last(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class SdkObject:
    """An SDK or boto3 object the reader knows: what made it and the arguments that matter."""

    kind: str  # "jumpstart_model", "jumpstart_estimator", "jumpstart_config", "model_builder", "client", ...
    arguments: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class Method:
    receiver: Any
    name: str


_UNSET = Unknown("unset")
UNKNOWN_KEYWORDS = "**"  # the key under which a call records keyword arguments it cannot follow


class _ModuleReader:
    """Reads one module (or a notebook's cells) and collects the requests its calls send."""

    def __init__(self, path: str, positions: Mapping[int, tuple[int, int]] | None = None) -> None:
        self.path = path
        self.requests: list[SurfaceRequest] = []
        self._seen: set[tuple[int, int]] = set()
        self._positions = positions or {}  # (line in the parsed text) -> (line, column offset) in the file
        self._depth = 0

    # Statements ---------------------------------------------------------------------------------------------

    def run(self, modules: Sequence[ast.Module]) -> None:
        env: dict[str, Any] = {}
        deferred: list[tuple[ast.AST, dict[str, Any]]] = []
        for module in modules:
            self._block(module.body, env, deferred)
        while deferred:  # function bodies, with the module's final names (as when they are called)
            node, outer = deferred.pop(0)
            local = dict(outer)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                for argument in ast.walk(node.args):
                    if isinstance(argument, ast.arg):
                        local[argument.arg] = Unknown(argument.arg)
                body = node.body if isinstance(node.body, list) else [ast.Expr(node.body)]
                self._block(body, local, deferred)
            elif isinstance(node, ast.ClassDef):
                self._block(node.body, local, deferred)

    def _block(self, statements: Sequence[ast.stmt], env: dict[str, Any],
               deferred: list[tuple[ast.AST, dict[str, Any]]]) -> None:
        for statement in statements:
            self._statement(statement, env, deferred)

    def _statement(self, node: ast.stmt, env: dict[str, Any],
                   deferred: list[tuple[ast.AST, dict[str, Any]]]) -> None:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            value = self.value(node.value, env) if node.value is not None else _UNSET
            if value is _UNSET:
                return
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                self._assign(target, value, env)
        elif isinstance(node, ast.AugAssign):
            self.value(node.value, env)
            self._assign(node.target, Unknown(ast.unparse(node.target)), env)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                env[alias.asname or alias.name.split(".")[0]] = Dotted(alias.name if alias.asname else
                                                                       alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                env[alias.asname or alias.name] = Dotted(f"{node.module or ''}.{alias.name}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:
                self.value(decorator, env)
            env[node.name] = Unknown(node.name)
            deferred.append((node, env))
        elif isinstance(node, ast.If):
            self.value(node.test, env)
            self._branches(env, deferred, node.body, node.orelse)
        elif isinstance(node, ast.For | ast.AsyncFor):
            self.value(node.iter, env)
            self._assign(node.target, Unknown(ast.unparse(node.target)), env)
            self._branches(env, deferred, node.body, node.orelse)
        elif isinstance(node, ast.While):
            self.value(node.test, env)
            self._branches(env, deferred, node.body, node.orelse)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                value = self.value(item.context_expr, env)
                if item.optional_vars is not None:
                    self._assign(item.optional_vars, value, env)
            self._block(node.body, env, deferred)
        elif isinstance(node, ast.Try | ast.TryStar):
            self._block(node.body, env, deferred)
            for handler in node.handlers:
                if handler.name:
                    env[handler.name] = Unknown(handler.name)
                self._block(handler.body, env, deferred)
            self._block(node.orelse, env, deferred)
            self._block(node.finalbody, env, deferred)
        elif isinstance(node, ast.Match):
            self.value(node.subject, env)
            self._branches(env, deferred, *(case.body for case in node.cases))
        else:  # return, expression statements, assert, raise, del...: their calls still count
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.value(child, env)

    def _branches(self, env: dict[str, Any], deferred: list[tuple[ast.AST, dict[str, Any]]],
                  *bodies: Sequence[ast.stmt]) -> None:
        """Each body from the same names; afterwards a name a body changed holds either branch's value."""
        results = []
        for body in bodies:
            branch = dict(env)
            self._block(body, branch, deferred)
            results.append(branch)
        if len(bodies) == 1:
            results.append(dict(env))  # the body may not run
        for name in {name for branch in results for name in branch}:
            env[name] = _join(name, [branch[name] for branch in results if name in branch])

    def _assign(self, target: ast.expr, value: Any, env: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            holder = env.get(target.value.id)
            key = self.value(target.slice, env)
            if isinstance(holder, dict) and isinstance(key, str):
                env[target.value.id] = {**holder, key: value}
            elif isinstance(holder, dict):
                env[target.value.id] = Unknown(target.value.id)
        elif (isinstance(target, ast.Tuple | ast.List) and isinstance(value, list) and len(value) == len(target.elts)
              and not any(isinstance(element, ast.Starred) for element in target.elts)):
            for element, item in zip(target.elts, value, strict=True):  # model_id, version = "...", "2.*"
                self._assign(element, item, env)
        elif isinstance(target, ast.Tuple | ast.List | ast.Starred):
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    env[name.id] = Unknown(name.id)
        else:
            self.value(target, env)

    # Expressions --------------------------------------------------------------------------------------------

    def value(self, node: ast.expr, env: Mapping[str, Any]) -> Any:
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                return Unknown(ast.unparse(node)[:40])
            return self._value(node, env)
        finally:
            self._depth -= 1

    def _value(self, node: ast.expr, env: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return env[node.id] if node.id in env else Dotted(node.id)
        if isinstance(node, ast.Attribute):
            base = self.value(node.value, env)
            if isinstance(base, Dotted):
                return Dotted(f"{base.name}.{node.attr}")
            if isinstance(base, SdkObject):
                if base.kind == "session" and node.attr == "sagemaker_client":
                    return SdkObject("client", {"service": "sagemaker"})
                return Method(base, node.attr)
            return Method(Unknown(ast.unparse(node.value)[:40]), node.attr)
        if isinstance(node, ast.Call):
            return self._call(node, env)
        if isinstance(node, ast.Await):
            return self.value(node.value, env)
        if isinstance(node, ast.JoinedStr):
            return self._f_string(node, env)
        if isinstance(node, ast.Dict):
            result: dict[Any, Any] = {}
            for key_node, value_node in zip(node.keys, node.values, strict=True):
                item = self.value(value_node, env)
                if key_node is None:
                    if isinstance(item, dict):
                        result.update(item)
                    continue
                key = self.value(key_node, env)
                if isinstance(key, str | int | bool):
                    result[key] = item
            return result
        if isinstance(node, ast.List | ast.Tuple):
            return [Unknown(ast.unparse(element)[:40]) if isinstance(element, ast.Starred)
                    else self.value(element, env) for element in node.elts]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.value(node.left, env), self.value(node.right, env)
            if _is_text(left) and _is_text(right):
                return _concat(left, right)
            return Unknown(ast.unparse(node)[:40])
        if isinstance(node, ast.Subscript):
            base = self.value(node.value, env)
            key = self.value(node.slice, env)
            if isinstance(base, dict) and isinstance(key, str | int) and key in base:
                return base[key]
            if isinstance(base, list) and isinstance(key, int) and -len(base) <= key < len(base):
                return base[key]
            return Unknown(ast.unparse(node)[:40])
        if isinstance(node, ast.IfExp):
            self.value(node.test, env)
            body, orelse = self.value(node.body, env), self.value(node.orelse, env)
            if body == orelse:
                return body
            if isinstance(body, str) and isinstance(orelse, str):
                return Unknown(ast.unparse(node)[:40], (body, orelse))
            return Unknown(ast.unparse(node)[:40])
        if isinstance(node, ast.Lambda):
            return Unknown("lambda")
        for child in ast.iter_child_nodes(node):  # comprehensions, operators...: read the calls inside
            self._visit(child, env)
        return Unknown(ast.unparse(node)[:40])

    def _visit(self, node: ast.AST, env: Mapping[str, Any]) -> None:
        if isinstance(node, ast.expr):
            self.value(node, env)
        else:
            for child in ast.iter_child_nodes(node):
                self._visit(child, env)

    def _f_string(self, node: ast.JoinedStr, env: Mapping[str, Any]) -> Any:
        parts: list[str | Unknown] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
                continue
            assert isinstance(part, ast.FormattedValue)
            inner = self.value(part.value, env)
            if part.conversion == -1 and part.format_spec is None and isinstance(inner, str):
                parts.append(inner)
            elif part.conversion == -1 and part.format_spec is None and isinstance(inner, Pieces):
                parts.extend(inner.parts)
            else:
                parts.append(inner if isinstance(inner, Unknown) else Unknown(ast.unparse(part.value)[:40]))
        return _pieces(parts)

    def _call(self, node: ast.Call, env: Mapping[str, Any]) -> Any:
        function = self.value(node.func, env)
        arguments = [Unknown(ast.unparse(a)[:40]) if isinstance(a, ast.Starred) else self.value(a, env)
                     for a in node.args]
        keywords: dict[str, Any] = {}
        for keyword in node.keywords:
            item = self.value(keyword.value, env)
            if keyword.arg is not None:
                keywords[keyword.arg] = item
            elif isinstance(item, dict):
                keywords.update({key: value for key, value in item.items() if isinstance(key, str)})
            else:  # **something the reader cannot follow: any keyword may be in it
                keywords.setdefault(UNKNOWN_KEYWORDS, Unknown(f"**{ast.unparse(keyword.value)[:40]}"))
        if isinstance(function, Dotted):
            return self._constructor(node, function, arguments, keywords)
        if isinstance(function, Method):
            return self._method(node, function, arguments, keywords)
        return Unknown(ast.unparse(node.func)[:40])

    def _constructor(self, node: ast.Call, function: Dotted, arguments: list[Any], keywords: dict[str, Any]) -> Any:
        name, last = function.name, function.last
        first = arguments[0] if arguments else _UNSET
        if last in ("JumpStartModel", "JumpStartEstimator"):
            kind = "jumpstart_model" if last == "JumpStartModel" else "jumpstart_estimator"
            model_id = keywords.get("model_id", first)
            return SdkObject(kind, {**keywords, "model_id": model_id}, f"{last}({_show(model_id)})")
        if name.endswith("model_uris.retrieve"):  # JumpStart's artifact of a model id (SDK v2, before JumpStartModel)
            return model_artifact(_model_id(keywords.get("model_id", first)))
        if name.startswith("sagemaker.") and last.endswith("Model") and "model_data" in keywords:
            # sagemaker.model.Model, HuggingFaceModel...: serves whatever model_data names
            return SdkObject("model", {"model_data": keywords["model_data"]}, f"{last}(model_data=...)")
        if last == "HyperparameterTuner":
            estimator = keywords.get("estimator", first)
            if isinstance(estimator, SdkObject) and estimator.kind == "jumpstart_estimator":
                return SdkObject("tuner", {"estimator": estimator})
            return Unknown("HyperparameterTuner")
        if last == "JumpStartConfig":
            return SdkObject("jumpstart_config", {**keywords, "model_id": keywords.get("model_id", first)})
        if last == "ModelBuilder":
            model = keywords.get("model", first)
            if isinstance(model, str) and "/" not in model and model:
                return SdkObject("model_builder", {**keywords, "model_id": model}, f"ModelBuilder({model!r})")
            return Unknown("ModelBuilder")
        if name.endswith("ModelBuilder.from_jumpstart_config") or name.endswith("ModelTrainer.from_jumpstart_config"):
            config = keywords.get("jumpstart_config", first)
            arguments_of = config.arguments if isinstance(config, SdkObject) else {"model_id": Unknown("model_id")}
            model_id = arguments_of.get("model_id", Unknown("model_id"))
            if name.endswith("ModelBuilder.from_jumpstart_config"):
                return SdkObject("model_builder", {**keywords, **arguments_of},
                                 f"ModelBuilder.from_jumpstart_config({_show(model_id)})")
            accept = arguments_of.get("accept_eula")
            self._emit(node, f"ModelTrainer.from_jumpstart_config({_show(model_id)})",
                       "SageMaker SDK v3 ModelTrainer.from_jumpstart_config",
                       training_request(_model_id(model_id), _flag(accept)),
                       acceptance_spellings(TRAINING_ACCEPTANCE_PATH, "JumpStartConfig(accept_eula=...)"),
                       "pass accept_eula=True to JumpStartConfig")
            return SdkObject("model_trainer")
        if last in ("client", "resource"):
            return SdkObject("client", {"service": keywords.get("service_name", first)})
        if last == "Session":
            return SdkObject("session")
        if name == "dict" or last == "ModelAccessConfig":  # ModelAccessConfig(accept_eula=True): its arguments
            return dict(keywords)
        return Unknown(f"{name}(...)")

    def _method(self, node: ast.Call, method: Method, arguments: list[Any], keywords: dict[str, Any]) -> Any:
        receiver, name = method.receiver, method.name
        kind = receiver.kind if isinstance(receiver, SdkObject) else None
        if kind in ("session", None) and name == "client":  # boto3/aioboto3 sessions, the SDK's boto_session
            return SdkObject("client", {"service": keywords.get("service_name", arguments[0] if arguments else
                                                                 Unknown("service"))})
        if name in OWN_LOCATION_METHODS:  # Session.upload_data, S3Uploader.upload, Session.default_bucket
            return OWN_LOCATION_METHODS[name]
        if kind == "jumpstart_model" and name in ("deploy", "register"):
            self._deploy(node, receiver, name, keywords, "SageMaker SDK JumpStartModel")
            return SdkObject("predictor")
        if kind == "model_builder" and name == "build":
            return SdkObject("model_builder", {**receiver.arguments, **keywords}, receiver.label)
        if kind == "model_builder" and name in ("deploy", "register", "optimize"):
            self._deploy(node, receiver, name, {**receiver.arguments, **keywords}, "SageMaker SDK ModelBuilder")
            return SdkObject("predictor")
        if kind == "jumpstart_estimator" and name == "fit":
            self._fit(node, receiver, keywords, "JumpStartEstimator")
            return None
        if kind == "tuner" and name == "fit":  # a tuning job runs the estimator's training jobs
            self._fit(node, receiver.arguments["estimator"], keywords, "HyperparameterTuner")
            return None
        if kind == "model" and name == "deploy":
            self._emit(node, f"{receiver.label}.deploy()", f"SageMaker SDK {receiver.label.split('(')[0]}.deploy",
                       _model_data_request(receiver.arguments["model_data"]), (), None)
            return SdkObject("predictor")
        if kind == "jumpstart_estimator" and name == "deploy":
            return SdkObject("predictor")  # the fine-tuned model: the user's own weights
        if name in PASSTHROUGH_METHODS or name in (OPTIMIZATION_METHOD, MARKETPLACE_METHOD):
            service = receiver.arguments.get("service") if kind == "client" else None
            if kind not in (None, "client") or (isinstance(service, str) and service not in ("sagemaker", "bedrock")):
                return Unknown(name)
            if name == "create_model" and kind is None and not {"PrimaryContainer", "Containers"} & set(keywords):
                return Unknown(name)  # some other library's create_model
            self._client_call(node, name, keywords)
        return Unknown(name)

    # Requests -----------------------------------------------------------------------------------------------

    def _deploy(self, node: ast.Call, model: SdkObject, call: str, keywords: Mapping[str, Any], what: str) -> None:
        model_id = model.arguments.get("model_id", Unknown("model_id"))
        accept = _keyword(keywords, "accept_eula")
        if accept is None and "model_access_configs" in keywords:  # {model_id: ModelAccessConfig(accept_eula=...)}
            accept = _access_configs_acceptance(keywords["model_access_configs"])
        spelling = f"{call}(accept_eula=...)"
        request = model_request(_model_id(model_id), _flag(accept))
        model_data = model.arguments.get("model_data")
        if model_data is not None:  # the SDK serves these weights instead of JumpStart's (a fine-tuned model)
            request["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]["S3Uri"] = (
                model_data if isinstance(model_data, str | Unknown | Pieces) else Unknown("model_data"))
        self._emit(node, f"{model.label}.{call}()", f"{what}.{call}", request,
                   acceptance_spellings(MODEL_ACCEPTANCE_PATH, spelling),
                   _DEPLOY_FIX.format(call=f"{call}()"))

    def _fit(self, node: ast.Call, estimator: SdkObject, keywords: Mapping[str, Any], via: str) -> None:
        model_id = estimator.arguments.get("model_id", Unknown("model_id"))
        accept = _keyword(keywords, "accept_eula")
        spelling = 'fit(accept_eula=...) or environment={"accept_eula": ...}'
        from_environment = accept is None  # the environment's value is a string: "true" accepts
        if from_environment:
            environment = estimator.arguments.get("environment")
            if isinstance(environment, dict):
                accept = environment.get("accept_eula")
            elif environment is not None:
                accept = Unknown("environment")
            if not isinstance(accept, str | Unknown | Pieces | None):
                accept = Unknown("environment accept_eula")
        label = estimator.label if via == "JumpStartEstimator" else f"HyperparameterTuner({estimator.label})"
        self._emit(node, f"{label}.fit()", f"SageMaker SDK {via}.fit",
                   training_request(_model_id(model_id), accept if from_environment else _flag(accept)),
                   acceptance_spellings(TRAINING_ACCEPTANCE_PATH, spelling),
                   "pass accept_eula=True to fit()")

    def _client_call(self, node: ast.Call, method: str, keywords: dict[str, Any]) -> None:
        if method == MARKETPLACE_METHOD:
            region, model_id = _hub_model(keywords.get("modelSourceIdentifier", Unknown("modelSourceIdentifier")))
            if model_id is None:
                return  # not a JumpStart hub model (a Marketplace model package): no EULA of JumpStart's
            self._emit(node, f"{method}({_show(model_id)})", f"Bedrock {method}",
                       model_request(model_id, _flag(_keyword(keywords, "acceptEula")), region),
                       acceptance_spellings(MODEL_ACCEPTANCE_PATH, "acceptEula"),
                       f"pass acceptEula=True to {method}()")
            return
        if method == OPTIMIZATION_METHOD:
            source = _field(_field(keywords, "ModelSource"), "S3")
            access = _field(source, "ModelAccessConfig")
            accept = _field(access, "AcceptEula") if access is not None else None
            request = model_request(_model_id(Unknown("model_id")), accept)
            request["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]["S3Uri"] = (
                _field(source, "S3Uri") if source is not None else Unknown("ModelSource.S3.S3Uri"))
            self._emit(node, f"{method}()", f"boto3 {method}", request,
                       (("PrimaryContainer.ModelDataSource.S3DataSource", "ModelSource.S3"),),
                       "set ModelSource.S3.ModelAccessConfig.AcceptEula to True")
            return
        request = {key: value for key, value in keywords.items() if key != UNKNOWN_KEYWORDS}
        # **arguments the reader cannot follow, without the request's own keys in sight: nothing to judge.
        unshown = (f"its arguments come from {keywords[UNKNOWN_KEYWORDS].name}, which is not known from the source"
                   if UNKNOWN_KEYWORDS in keywords and not set(request) & _REQUEST_KEYS[method] else None)
        self._emit(node, f"{method}()", f"boto3 {method}", request, (), None, unshown)

    def _emit(self, node: ast.Call, name: str, what: str, request: Mapping[str, Any],
              spellings: tuple[tuple[str, str], ...], fix: str | None, unshown: str | None = None) -> None:
        line, column = self._position(node)
        if (line, column) in self._seen:
            return
        self._seen.add((line, column))
        self.requests.append(SurfaceRequest(SURFACE, name, what, request, line, column, spellings, fix,
                                            unshown=unshown))

    def _position(self, node: ast.AST) -> tuple[int, int]:
        line = getattr(node, "lineno", 1)
        column = getattr(node, "col_offset", 0) + 1
        if line in self._positions:
            line, offset = self._positions[line]
            column += offset
        return line, column


def _join(name: str, values: list[Any]) -> Any:
    """What a name holds after branches that give it ``values``: theirs when they agree; an unknown limited to
    the strings they give; a dict of such values when each branch gives a dict with the same keys."""
    first = values[0]
    if all(value == first for value in values):
        return first
    if all(isinstance(value, str) for value in values):
        return Unknown(name, tuple(dict.fromkeys(values)))
    if all(isinstance(value, dict) and value.keys() == first.keys() for value in values):
        return {key: _join(f"{name}[{key!r}]", [value[key] for value in values]) for key in first}
    return Unknown(name)


def _without_magics(lines: Sequence[str]) -> Iterator[str]:
    """A cell's lines with IPython's ``%magic`` and ``!shell`` lines (and their ``\\`` continuations) blanked,
    keeping the numbering."""
    continued = False
    for line in lines:
        magic = continued or line.lstrip().startswith(("%", "!"))
        continued = magic and line.rstrip("\r\n").endswith("\\")
        yield "\n" if magic else line


def _is_text(value: Any) -> bool:
    return isinstance(value, str | Pieces | Unknown)


def _concat(left: Any, right: Any) -> Any:
    parts: list[str | Unknown] = []
    for value in (left, right):
        parts.extend(value.parts if isinstance(value, Pieces) else (value,))
    return _pieces(parts)


def _pieces(parts: Sequence[str | Unknown]) -> str | Pieces:
    if all(isinstance(part, str) for part in parts):
        return "".join(part for part in parts if isinstance(part, str))
    return Pieces(tuple(parts))


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else "?"


def _model_id(value: Any) -> str | Unknown | Pieces:
    if isinstance(value, str | Unknown | Pieces) and value != "":
        return value
    return Unknown("model_id")


def _model_data_request(model_data: Any) -> dict[str, Any]:
    """The CreateModel request of an SDK ``Model(model_data=...)``: a location is ``ModelDataUrl`` (which cannot
    carry acceptance), a dict (``{"S3DataSource": {...}}``) is ``ModelDataSource``, as the SDK sends them."""
    if isinstance(model_data, dict):
        return {"PrimaryContainer": {"ModelDataSource": model_data}}
    return {"PrimaryContainer": {"ModelDataUrl": model_data if isinstance(model_data, str | Pieces | Unknown)
                                 else Unknown("model_data")}}


def _access_configs_acceptance(configs: Any) -> Any:
    """The acceptance ``model_access_configs={model_id: ModelAccessConfig(accept_eula=...)}`` gives: ``True``
    only when every entry accepts."""
    if not isinstance(configs, dict) or not configs:
        return Unknown("model_access_configs")
    verdicts = [_keyword(config, "accept_eula") if isinstance(config, dict) else Unknown("model_access_configs")
                for config in configs.values()]
    return True if all(verdict is True for verdict in verdicts) else next(v for v in verdicts if v is not True)


def _keyword(keywords: Mapping[str, Any], name: str) -> Any:
    """A keyword argument: given, unknown (in a ``**`` the reader cannot follow) or ``None``."""
    return keywords.get(name, keywords.get(UNKNOWN_KEYWORDS))


def _flag(value: Any) -> Any:
    """An acceptance argument (a boolean parameter) as the request carries it: ``None`` (not given), a boolean,
    an unknown, or a value that is never acceptance (a string: the SDK and boto3 want the boolean ``True``)."""
    if value is None or isinstance(value, bool | Unknown):
        return value
    if isinstance(value, str | Pieces):
        shown = repr(value) if isinstance(value, str) else "of an f-string"
        return f"the string {shown}, where a boolean is required"
    return Unknown("accept_eula")


def _field(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key)
    return Unknown(key) if value is not None else None


def _hub_model(arn: Any) -> tuple[str, str | Unknown | None]:
    """(region, model id) of a SageMaker hub content ARN; the id ``None`` when the ARN is not a hub model's."""
    if isinstance(arn, str):
        match = _HUB_MODEL.match(arn)
        return (match.group(1) or DEFAULT_REGION, match.group(2)) if match else (DEFAULT_REGION, None)
    if isinstance(arn, Pieces) and isinstance(arn.parts[0], str) and _HUB_MODEL_PREFIX.match(arn.parts[0]):
        match = _HUB_MODEL_PREFIX.match(arn.parts[0])
        return (match.group(1) if match and match.group(1) else DEFAULT_REGION), Unknown("model_id")
    return DEFAULT_REGION, Unknown("modelSourceIdentifier")


def mentions_sagemaker(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in MARKERS)


def read_python(path: str, text: str, *, strict: bool) -> SurfaceScan:
    """The requests of a Python file, judged."""
    if not mentions_sagemaker(text):
        return scan_requests(path, (), strict=strict)
    try:
        module = ast.parse(text, filename=path)
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None) or 1
        return scan_requests(path, (), strict=strict, extra=(
            unreadable_finding(SURFACE, path, line, f"it is not valid Python ({error})", strict=strict),))
    return _judge(path, [module], {}, strict)


def read_notebook(path: str, text: str, *, strict: bool) -> SurfaceScan:
    """The requests of a notebook's code cells (in order, sharing names as a kernel does), judged."""
    if not mentions_sagemaker(text):
        return scan_requests(path, (), strict=strict)
    try:
        document = json.loads(text)
    except ValueError as error:
        return scan_requests(path, (), strict=strict, extra=(
            unreadable_finding(SURFACE, path, 1, f"it is not JSON ({error})", strict=strict),))
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        return scan_requests(path, (), strict=strict, extra=(
            unreadable_finding(SURFACE, path, 1, "it has no cells", strict=strict),))
    raw_lines = text.splitlines()
    modules: list[ast.Module] = []
    positions: dict[int, tuple[int, int]] = {}
    unreadable: list[Finding] = []
    search_from = 0
    offset = 0  # cells are parsed as one numbering of lines, mapped back to the file's lines
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        lines = (source if isinstance(source, list) else str(source).splitlines(keepends=True))
        lines = [str(line) for line in lines]
        code = "".join(_without_magics(lines))
        if lines[:1] and lines[0].startswith("%%"):  # a cell magic: not Python
            continue
        for index, line in enumerate(lines):
            encoded = json.dumps(line)
            found = next((at for at in range(search_from, len(raw_lines)) if encoded in raw_lines[at]), None)
            if found is not None:
                search_from = found + 1
                positions[offset + index + 1] = (found + 1, raw_lines[found].index(encoded) + 1)
            else:
                positions[offset + index + 1] = (search_from or 1, 0)
        try:
            module = ast.parse("\n" * offset + code, filename=path)
        except (SyntaxError, ValueError) as error:
            line = positions.get(getattr(error, "lineno", None) or offset + 1, (1, 0))[0]
            unreadable.append(unreadable_finding(
                SURFACE, path, line, f"code cell {number} is not valid Python ({error.args[0]})", strict=strict))
        else:
            modules.append(module)
        offset += len(lines) + 1
    return _judge(path, modules, positions, strict, unreadable)


def _judge(path: str, modules: list[ast.Module], positions: Mapping[int, tuple[int, int]], strict: bool,
           unreadable: Sequence[Finding] = ()) -> SurfaceScan:
    reader = _ModuleReader(path, positions)
    try:
        reader.run(modules)
    except RecursionError:
        return scan_requests(path, (), strict=strict, extra=(*unreadable, unreadable_finding(
            SURFACE, path, 1, "it is nested deeper than EulaGate reads", strict=strict)))
    return scan_requests(path, reader.requests, strict=strict, extra=unreadable)


def requests_in(path: str, text: str) -> Iterator[SurfaceRequest]:
    """The requests a Python file sends (for tests and tools), unjudged."""
    reader = _ModuleReader(path)
    reader.run([ast.parse(text)])
    yield from reader.requests
