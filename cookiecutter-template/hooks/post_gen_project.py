"""Tell the user what to do next with the project cookiecutter has just written."""

from __future__ import annotations

import sys

# Both were checked by the pre-generation hook: plain ASCII, nothing to escape.
SLUG = "{{ cookiecutter.project_slug }}"
NAMESPACE = "{{ cookiecutter.namespace }}"
# "no" when `openhcs-plugins new` or `promote` runs the template: they print the steps
# themselves, with the project's real path.
PRINT_NEXT_STEPS = "{{ cookiecutter._print_next_steps }}" == "yes"


def main() -> int:
    """Print the next steps (install, test, list the functions)."""
    if not PRINT_NEXT_STEPS:
        return 0
    print(
        f"\nCreated {SLUG}. Next steps:\n"
        f"  cd {SLUG}\n"
        "  git init && git add . && git commit -m 'Project from the openhcs-plugins template'\n"
        "  python -m pip install -e '.[test]'\n"
        "  pytest\n"
        f"  openhcs-plugins list --namespace {NAMESPACE}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
