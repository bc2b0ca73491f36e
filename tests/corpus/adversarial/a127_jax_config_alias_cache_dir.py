# route: aliasing jax past the path check: jax.config.update writes a compilation cache anywhere
# expect: import-not-allowed
from openhcs_plugins.memory import numpy
import jax


@numpy
def process(image):
    match jax:
        case lib:
            lib.config.update("jax_compilation_cache_dir", "/tmp/pwned-cache")
    return image
