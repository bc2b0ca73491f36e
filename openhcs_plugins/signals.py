"""Signals emitted when the set of functions changes.

They are psygnal signals: no Qt import, and a Qt application connects a slot directly::

    from openhcs_plugins.signals import custom_function_signals
    custom_function_signals.functions_changed.connect(widget.refresh)
"""

from __future__ import annotations

from psygnal import Signal

__all__ = ["CustomFunctionSignals", "custom_function_signals"]


class CustomFunctionSignals:
    """Holder of the signals; use the module-level :data:`custom_function_signals`."""

    #: Emitted after a register, update, load or delete changed the registered functions.
    functions_changed = Signal()


#: The one instance every component connects to.
custom_function_signals = CustomFunctionSignals()
