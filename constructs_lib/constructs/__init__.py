"""The CDK constructs (they start jsii): serving endpoints (``serving/``) and fine-tuning jobs (``jobs/``).

Importing them changes no global state; an app that wants a construct's bad props to end it with one line
instead of a traceback calls ``constructs_lib.install_one_line_errors()`` (``app.py`` does).
"""
