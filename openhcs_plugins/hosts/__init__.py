"""Hosts: what this project does so that the programs loading our functions load them well.

One module per host and job. :mod:`.openhcs_folder` owns the shared functions folder as OpenHCS
0.8.6 reads it: the rules OpenHCS applies to every file there (it drops the whole folder when
one file breaks them), the check of a folder against them, and the imports written into the
files this project saves so that they load in OpenHCS whether or not this project is installed
in OpenHCS's environment. :mod:`.openhcs` is the adapter that publishes installed packages
into OpenHCS's catalog, :mod:`.openhcs_hook` the start-up hook that calls it, :mod:`.install` the
hook's files.
"""
