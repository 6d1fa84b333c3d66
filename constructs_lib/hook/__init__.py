"""The deploy-time enforcement point: a CloudFormation Lambda Hook running the EULA rules (docs/hook.md).

jsii-free: the Lambda function imports ``constructs_lib.hook.handler`` from a bundle without aws_cdk
(``bundle.py``); the ``EulaGuardHook`` construct that deploys it lives in ``constructs_lib.constructs``.
"""

from constructs_lib.hook.handler import HANDLER, handle

__all__ = ["HANDLER", "handle"]
