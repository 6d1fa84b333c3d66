"""Deprecated since 0.2.0, removed in 0.3.0: the module moved to ``constructs_lib.client.runtime``.

Importing ``constructs_lib.runtime`` warns and gives the moved module itself (the same functions and errors, so
``except constructs_lib.runtime.InvocationError`` and patches of its names keep working).
"""

from __future__ import annotations

import sys

from constructs_lib.client import runtime
from constructs_lib.deprecation import warn_deprecated

warn_deprecated("constructs_lib.runtime", "import constructs_lib.client.runtime instead", since="0.2.0")
sys.modules[__name__] = runtime
