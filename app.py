#!/usr/bin/env python3
"""The EulaGate CDK app: declares the stacks of the model table (``-c table=PATH``, default ``models.yaml``)."""

import aws_cdk as cdk

app = cdk.App()
app.synth()
