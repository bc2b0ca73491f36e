"""``python -m openhcs_plugins.cli``: the ``openhcs-plugins`` command."""

from openhcs_plugins.cli import main

main()
