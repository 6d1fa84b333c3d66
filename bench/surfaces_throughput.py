"""How fast `eulagate check` reads a repository of every surface, against the floor of parsing it, in one run.

    .venv/bin/python bench/surfaces_throughput.py [--python 1000] [--terraform 200] [--manifests 200] [--rounds 5]

It writes a synthetic repository under bench/.work/surfaces-repo (a git work tree when git is installed, so the
walk goes through `git ls-files` as in CI): Python files that deploy and fine-tune JumpStart models with the
SageMaker SDK and boto3 (every one mentions SageMaker, so none is skipped unread), Terraform files with SageMaker
models among other resources, and multi-document manifests with HyperPod JumpStartModels among Deployments and
Services. Then it times, as separate processes, alternating, median of --rounds:
  - the floor: a Python process that only parses the same files, with `ast.parse`, python-hcl2's `loads` and
    PyYAML's `load_all` (the C loader when PyYAML has it);
  - `eulagate check --format json` on the repository (walk, recognition, readers, rules, report).
It prints the check's CPU and wall time as ratios of the floor's. Target: at most 3x.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = ROOT / "bench" / ".work" / "surfaces-repo"
# The CLI of this checkout (``python -c`` puts the working directory, ROOT, first on sys.path).
CHECK = "import sys\nfrom constructs_lib.cli import main\nsys.exit(main())\n"

PARSE_FLOOR = """
import ast, sys
import hcl2, yaml
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    if path.endswith(".py"):
        ast.parse(text)
    elif path.endswith(".tf"):
        hcl2.loads(text)
    else:
        list(yaml.load_all(text, Loader=loader))
"""
GATED = ("meta-textgeneration-llama-3-8b", "huggingface-llm-gemma-7b", "meta-textgeneration-llama-2-7b")
OPEN = ("huggingface-llm-falcon-7b-bf16", "huggingface-llm-mistral-7b-instruct")


def python_file(index: int) -> str:
    model = (GATED + OPEN)[index % 5]
    accept = "True" if index % 7 else "False"  # some findings keep the report busy
    return f'''"""Serving and fine-tuning job {index}."""
import json
import logging

import boto3
from sagemaker.jumpstart.estimator import JumpStartEstimator
from sagemaker.jumpstart.model import JumpStartModel

LOG = logging.getLogger(__name__)
MODEL_ID = "{model}"
INSTANCE_TYPE = "ml.g5.{2 * (index % 4 + 1)}xlarge"
BUCKET = "my-training-data-{index}"


def payload(prompt: str, max_new_tokens: int = 256) -> dict:
    return {{"inputs": prompt, "parameters": {{"max_new_tokens": max_new_tokens, "temperature": 0.2}}}}


def deploy():
    model = JumpStartModel(model_id=MODEL_ID, instance_type=INSTANCE_TYPE)
    predictor = model.deploy(accept_eula={accept}, initial_instance_count=1)
    LOG.info("deployed %s", predictor.endpoint_name)
    return predictor


def fine_tune():
    estimator = JumpStartEstimator(model_id=MODEL_ID, environment={{"accept_eula": "true"}},
                                   instance_type="ml.g5.12xlarge")
    estimator.set_hyperparameters(epoch="3", learning_rate="0.0001")
    estimator.fit({{"training": f"s3://{{BUCKET}}/train/"}})
    return estimator.deploy()


def register(client=None):
    client = client or boto3.client("sagemaker")
    container = {{"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0",
                  "ModelDataSource": {{"S3DataSource": {{
                      "S3Uri": f"s3://{{BUCKET}}/output/model/", "S3DataType": "S3Prefix",
                      "CompressionType": "None"}}}}}}
    return client.create_model(ModelName="finetuned-{index}", PrimaryContainer=container,
                               ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker")


class Summary:
    def __init__(self, rows):
        self.rows = [row for row in rows if row.get("score", 0) > 0.5]

    def render(self) -> str:
        return json.dumps({{"count": len(self.rows), "best": max((r["score"] for r in self.rows), default=0)}})


if __name__ == "__main__":
    print(deploy().predict(payload("Hello")))
'''


def terraform_file(index: int) -> str:
    model = (GATED + OPEN)[index % 5]
    bucket = "jumpstart-private-cache-prod" if model in GATED else "jumpstart-cache-prod"
    accept = "true" if index % 7 else "false"
    return f'''variable "instance_type" {{
  type    = string
  default = "ml.g5.2xlarge"
}}

locals {{
  name = "llm-{index}"
  tags = {{ team = "ml-platform", service = "llm-{index}" }}
}}

resource "aws_iam_role" "sagemaker" {{
  name               = "${{local.name}}-role"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Action = "sts:AssumeRole", Effect = "Allow",
                   Principal = {{ Service = "sagemaker.amazonaws.com" }} }}]
  }})
  tags               = local.tags
}}

resource "aws_s3_bucket" "artifacts" {{
  bucket = "${{local.name}}-artifacts"
  tags   = local.tags
}}

resource "aws_sagemaker_model" "llm" {{
  name               = local.name
  execution_role_arn = aws_iam_role.sagemaker.arn
  primary_container {{
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124"
    environment = {{
      SM_NUM_GPUS = "1"
    }}
    model_data_source {{
      s3_data_source {{
        s3_uri           = "s3://{bucket}-us-east-1/{model.split("-")[0]}/{model}/artifacts/inference-prepack/v1.0.0/"
        s3_data_type     = "S3Prefix"
        compression_type = "None"
        model_access_config {{
          accept_eula = {accept}
        }}
      }}
    }}
  }}
  tags = local.tags
}}

resource "aws_sagemaker_endpoint_configuration" "llm" {{
  name = local.name
  production_variants {{
    variant_name           = "AllTraffic"
    model_name             = aws_sagemaker_model.llm.name
    initial_instance_count = 1
    instance_type          = var.instance_type
  }}
}}

resource "aws_sagemaker_endpoint" "llm" {{
  name                 = local.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.llm.name
}}
'''


def manifest_file(index: int) -> str:
    model = (GATED + OPEN)[index % 5]
    accept = "true" if index % 7 else "false"
    return f'''apiVersion: inference.sagemaker.aws.amazon.com/v1
kind: JumpStartModel
metadata:
  name: llm-{index}
  namespace: inference
spec:
  model:
    acceptEula: {accept}
    modelHubName: SageMakerPublicHub
    modelId: {model}
  sageMakerEndpoint:
    name: llm-{index}
  server:
    instanceType: ml.g5.8xlarge
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gateway-{index}
  namespace: inference
  labels: {{app: gateway-{index}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: gateway-{index}}}
  template:
    metadata:
      labels: {{app: gateway-{index}}}
    spec:
      containers:
        - name: gateway
          image: public.ecr.aws/nginx/nginx:1.27
          ports: [{{containerPort: 8080}}]
          env:
            - {{name: ENDPOINT, value: llm-{index}}}
          resources:
            requests: {{cpu: 250m, memory: 256Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: gateway-{index}
  namespace: inference
spec:
  selector: {{app: gateway-{index}}}
  ports: [{{port: 80, targetPort: 8080}}]
'''


def write_repository(python: int, terraform: int, manifests: int) -> list[Path]:
    if REPOSITORY.exists():
        shutil.rmtree(REPOSITORY)
    paths = []
    for count, folder, suffix, make in ((python, "ml", ".py", python_file), (terraform, "infra", ".tf", terraform_file),
                                        (manifests, "k8s", ".yaml", manifest_file)):
        for index in range(count):
            path = REPOSITORY / folder / f"part{index // 50:02d}" / f"{folder}_{index:04d}{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(make(index), encoding="utf-8")
            paths.append(path)
    git = shutil.which("git")
    if git is not None:
        subprocess.run([git, "init", "-q", str(REPOSITORY)], check=True)
    return paths


def timed(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; CPU time (user + system) is what a shared machine's load disturbs least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[:500]}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", type=int, default=1000)
    parser.add_argument("--terraform", type=int, default=200)
    parser.add_argument("--manifests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    paths = write_repository(args.python, args.terraform, args.manifests)
    floor_command = [sys.executable, "-c", PARSE_FLOOR, *map(str, paths)]
    check_command = [sys.executable, "-c", CHECK, "check", "--format", "json", str(REPOSITORY)]
    result = subprocess.run(check_command, cwd=ROOT, capture_output=True, text=True, check=False)
    summary = json.loads(result.stdout)["summary"] if result.returncode in (0, 1) else None
    if summary is None:
        raise SystemExit(f"eulagate check failed: {result.stderr.strip()[:500]}")
    floors, checks = [], []
    for _ in range(args.rounds):
        floors.append(timed(floor_command))
        checks.append(timed(check_command))
    floor_wall, floor_cpu = (statistics.median(times) for times in zip(*floors, strict=True))
    check_wall, check_cpu = (statistics.median(times) for times in zip(*checks, strict=True))
    print(f"repository: {args.python} Python, {args.terraform} Terraform, {args.manifests} manifest files "
          f"({summary['resources']} requests, {summary['findings']} findings)")
    print(f"medians of {args.rounds} alternating runs     CPU      wall")
    print(f"parse floor (ast + hcl2 + PyYAML): {floor_cpu:6.2f} s {floor_wall:6.2f} s")
    print(f"eulagate check --format json:      {check_cpu:6.2f} s {check_wall:6.2f} s")
    print(f"ratio: {check_cpu / floor_cpu:.2f}x the parse floor in CPU time, {check_wall / floor_wall:.2f}x in wall "
          "time (target <= 3x)")


if __name__ == "__main__":
    main()
