"""The CDK constructs (they start jsii): serving endpoints (``serving/``) and fine-tuning jobs (``jobs/``)."""

from constructs_lib.constructs.one_line_errors import install as _install_one_line_errors

_install_one_line_errors()  # a construct's bad props end an app with one line, not a traceback
