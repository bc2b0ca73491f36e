"""Image-processing functions of {{ cookiecutter.package_name }}.

Every function here that carries a memory-type decorator is registered through the
``openhcs.functions`` entry point in pyproject.toml, under the key
``{{ cookiecutter.namespace }}:<function name>``. The first parameter is always ``image``, a
(C, Y, X) stack; give every other parameter a default and describe it in the docstring.
"""

{{ cookiecutter.memory_type | function_template | trim }}
