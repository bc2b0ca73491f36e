"""Loading: from candidates to lazy registry entries, one job per module.

This package owns the step between the sources and the registry (docs/architecture.md):
examining a candidate with the validator (:mod:`.examine`, giving a :class:`.discovery.Discovery`),
the discovery cache's bookkeeping (:mod:`.cached`), the rules across candidates (:mod:`.rules`:
one distribution per namespace, disabled names), registration through the adapter
(:mod:`.register`), what the settings decide (:mod:`.configured`), enable/disable
(:mod:`.switches`), the checks of one package (:mod:`.checks`), and the orchestration,
``load_plugins`` (:mod:`.load`, with its :class:`.report.LoadReport`). It may import
:mod:`openhcs_plugins.sources`, the validator, the registry and its adapter, the settings, and
(when a folder function loads) the executor; nothing imports it but the public face
:mod:`openhcs_plugins.loader`, the manager, the CLI, the GUI and the pytest plugin. Importing it
imports none of its modules.
"""
