"""The ``flowcrm`` command: FlowCRM's own sub-commands, and Django management for the rest.

Our sub-commands (``run``, ``worker``, ``demo``, ``token``, ``bench``, ``flows``, ``import``,
``insights``, …) are management commands of the FlowCRM apps, so one dispatcher serves both.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowcrm.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["flowcrm", *args])


if __name__ == "__main__":
    main()
