"""Every function of the package meets the OpenHCS contract.

The ``openhcs_contract`` fixture comes with openhcs-plugins (its pytest plugin): it finds the
functions of the namespace through the installed entry point (so run ``pip install -e .``
first), imports each, and runs it on a small synthetic (C, Y, X) stack of its memory type. A
function whose framework is not installed or has no device here is skipped with the reason.
"""

NAMESPACE = "lab_filters"


def test_every_function_meets_the_openhcs_contract(openhcs_contract):
    # Fails naming each function that breaks the contract; skips if none could run here.
    # A function that needs a value for a parameter without default gets it through
    # ``check_namespace(NAMESPACE, params={"function_name": {"parameter": value}})``.
    report = openhcs_contract.check_namespace(NAMESPACE)
    assert sorted(report.passed) == [
        f"{NAMESPACE}:{name}"
        for name in (
            "gaussian_blur",
            "normalize_percentile",
            "subtract_background",
            "threshold_otsu",
        )
    ]
