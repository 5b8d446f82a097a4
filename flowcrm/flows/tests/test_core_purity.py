"""The engine core stays plain Python: importing it loads neither Django nor the ORM."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_engine_core_does_not_import_django():
    modules = [
        "flowcrm.flows.core.definition",
        "flowcrm.flows.core.diff",
        "flowcrm.flows.core.schema",
    ]
    program = (
        f"import sys\nfor m in {modules!r}: __import__(m)\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )

    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
