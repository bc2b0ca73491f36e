"""The static policy for user code: which modules, attributes, builtins and decorators it may use.

Over 600 lines: most of it is the policy's tables (the allowlist, the deny lists, the
definition-time calls), kept in one place so that a review reads them together.

This module owns :class:`ImportPolicy`, a frozen value (data only: the lookup tables and caches
built from it live in :class:`~openhcs_plugins.validation.index.PolicyIndex`), and the
decorator table (which dotted paths are the memory-type decorators). It may import the standard
library, :mod:`openhcs_plugins.memory.types` and :mod:`.index`. The policy is built from
SECURITY-NOTES.md, "What holds statically":

- a module **allowlist** by submodule (``scipy.ndimage``, not ``scipy``), with explicit
  exclusions inside allowed packages (``numpy.f2py``, ``torch.hub``); the longest matching
  entry decides, so ``numpy.lib.stride_tricks`` can be allowed while ``numpy.lib`` is not;
- no attribute whose name starts with ``_`` except a few read-only dunders;
- a deny list of attribute names that reach files, processes, native code or interpreter
  internals from objects the allowlist hands out (``np.f2py``, ``image.ctypes``, ``torch.os``,
  ``typing.sys``, ``gen.gi_frame``);
- builtins denied by reference, not only by call (``f = eval`` is refused too);
- decorators limited to the memory-type decorators and a small allowlist;
- calls at definition time (module level, class bodies, defaults, annotations, decorator
  arguments) limited to a few constructors.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace

from openhcs_plugins.artifacts.spec import BUILDERS as SPEC_BUILDERS
from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES, OPENHCS_CONTRACT_MODULE
from openhcs_plugins.validation.index import ALLOWED, DENIED, PARENT, UNKNOWN, index_of

__all__ = [
    "ALLOWED",
    "ARTIFACT_DECORATOR_NAMES",
    "ARTIFACT_DECORATOR_PATHS",
    "ARTIFACT_MODULES",
    "ARTIFACT_SPEC_NAMES",
    "ARTIFACT_SPEC_PATHS",
    "DECORATOR_LIST",
    "DECORATOR_MODULES",
    "DECORATOR_PATHS",
    "DENIED",
    "MEMORY_DECORATOR_NAMES",
    "PARENT",
    "UNKNOWN",
    "ImportPolicy",
]

#: The six memory-type decorator names, in the order the OpenHCS documentation lists them.
MEMORY_DECORATOR_NAMES: tuple[str, ...] = tuple(AVAILABLE_MEMORY_TYPES)
#: How a message lists them: ``@numpy, @cupy, ...``.
DECORATOR_LIST = ", ".join(f"@{name}" for name in MEMORY_DECORATOR_NAMES)

#: Modules that export the memory-type decorators, in this package and in OpenHCS.
DECORATOR_MODULES: tuple[str, ...] = (
    "openhcs_plugins",
    "openhcs_plugins.memory",
    "openhcs_plugins.decorators",
    "openhcs.core.memory",
    "openhcs.core.memory.decorators",
)

#: Fully qualified decorator path -> memory type name (or ``"memory_types"``).
DECORATOR_PATHS: dict[str, str] = {
    f"{module}.{name}": name
    for module in DECORATOR_MODULES
    for name in (*MEMORY_DECORATOR_NAMES, "memory_types")
}

# -- modules ---------------------------------------------------------------------------------

#: The documented OpenHCS blocklist plus the modules SECURITY-NOTES.md names as escape routes.
#: Everything off the allowlist is refused anyway; these get the documented message
#: ("Dangerous import detected").
_BLOCKED_MODULES = frozenset(
    """
    os sys subprocess shutil glob socket urllib requests http eval exec compile __import__
    importlib builtins posix nt pathlib io tempfile ctypes pickle marshal multiprocessing
    asyncio runpy code codeop gc inspect threading _thread signal operator pty pdb platform
    shelve sqlite3 ftplib smtplib telnetlib webbrowser zipimport zipfile tarfile types site
    sysconfig cffi dill cloudpickle joblib concurrent resource mmap fcntl select selectors ssl
    xmlrpc urllib3 httpx aiohttp paramiko traceback linecache tokenize string copyreg atexit
    faulthandler tracemalloc weakref contextlib logging _posixsubprocess _io _ctypes _pickle
    """.split()
)

#: Modules that export the artifact decorators, the materialization spec and its options, in
#: this package and in OpenHCS (executed plugin code gets ours under OpenHCS's names).
ARTIFACT_MODULES: tuple[str, ...] = (
    "openhcs_plugins.artifacts",
    "openhcs.core.pipeline.function_contracts",
    "openhcs.processing.materialization",
)
#: The artifact decorators (``special_*`` are OpenHCS's older names for ``artifact_*``).
ARTIFACT_DECORATOR_NAMES: tuple[str, ...] = (
    "artifact_outputs",
    "special_outputs",
    "artifact_inputs",
    "special_inputs",
)
#: What a materialization spec is built with (OpenHCS's names; ``openhcs_plugins.artifacts``).
ARTIFACT_SPEC_NAMES: tuple[str, ...] = tuple(SPEC_BUILDERS)
#: Fully qualified artifact decorator path -> decorator name.
ARTIFACT_DECORATOR_PATHS: dict[str, str] = {
    f"{module}.{name}": name for module in ARTIFACT_MODULES for name in ARTIFACT_DECORATOR_NAMES
}
#: Fully qualified spec builder path -> builder name.
ARTIFACT_SPEC_PATHS: dict[str, str] = {
    f"{module}.{name}": name for module in ARTIFACT_MODULES for name in ARTIFACT_SPEC_NAMES
}

_OPENHCS_LEAVES = frozenset(
    {f"{module}.{name}" for module in DECORATOR_MODULES for name in (*MEMORY_DECORATOR_NAMES,)}
    | {f"{module}.memory_types" for module in DECORATOR_MODULES}
    | {f"{module}.ProcessingContract" for module in DECORATOR_MODULES}
    | {"openhcs_plugins.memory.types.ProcessingContract"}
    | {f"{OPENHCS_CONTRACT_MODULE}.ProcessingContract"}
    | set(ARTIFACT_DECORATOR_PATHS)
    | set(ARTIFACT_SPEC_PATHS)
    | {
        f"{module}.{name}"
        for module in ("openhcs_plugins", "openhcs_plugins.memory")
        for name in ("MemoryType", "CONTRACTS", "convert_memory", "detect_memory_type")
    }
)

_ALLOWED_MODULES = frozenset(
    {
        # the standard library: pure computation, no files, processes or introspection
        "__future__",
        "abc",
        "bisect",
        "cmath",
        "collections",
        "copy",
        "dataclasses",
        "decimal",
        "enum",
        "fractions",
        "functools",
        "heapq",
        "itertools",
        "math",
        "numbers",
        "random",
        "re",
        "statistics",
        "textwrap",
        "typing",
        "warnings",
        # numpy and its processing submodules (exclusions below)
        "numpy",
        "numpy.lib.stride_tricks",
        "numpy.lib.scimath",
        "numpy.lib.mixins",
        "numpy.lib.recfunctions",
        "numpy.lib.array_utils",
        # scipy: processing submodules only
        "scipy.ndimage",
        "scipy.signal",
        "scipy.fft",
        "scipy.fftpack",
        "scipy.linalg",
        "scipy.stats",
        "scipy.interpolate",
        "scipy.special",
        "scipy.optimize",
        "scipy.spatial",
        "scipy.constants",
        # scikit-image: processing modules only (no io, no data downloads)
        "skimage.filters",
        "skimage.morphology",
        "skimage.measure",
        "skimage.segmentation",
        "skimage.exposure",
        "skimage.restoration",
        "skimage.transform",
        "skimage.feature",
        "skimage.util",
        "skimage.color",
        "skimage.draw",
        "skimage.metrics",
        "skimage.registration",
        # the array frameworks of the memory types (exclusions below)
        "torch",
        "jax",
        "tensorflow",
        "cupy",
        "cupyx.scipy.ndimage",
        "pyclesperanto",
    }
    | _OPENHCS_LEAVES
)

#: Calls that change state of the whole process: every later function in the host would run
#: under it (refused with their own reason, see :meth:`ImportPolicy.excluded_reason`).
_STATE_SETTERS = frozenset(
    {
        *(
            f"torch.{name}"
            for name in """manual_seed set_default_dtype set_default_tensor_type
            set_default_device set_num_threads set_num_interop_threads set_flush_denormal
            use_deterministic_algorithms set_rng_state set_float32_matmul_precision
            set_warn_always set_printoptions random.manual_seed random.set_rng_state
            cuda.manual_seed cuda.manual_seed_all cuda.set_rng_state cuda.set_device""".split()
        ),
        "tensorflow.random.set_seed",
        "tensorflow.config",
        "decimal.setcontext",
    }
)

#: Parts of allowed packages that reach files, processes, native code, the network or
#: serialisation. The longest matching entry wins over ``_ALLOWED_MODULES``.
_DENIED_MODULES = frozenset(
    {
        "numpy.f2py",
        "numpy.ctypeslib",
        "numpy.testing",
        "numpy.lib",
        "numpy.distutils",
        "numpy.core",
        "numpy.conftest",
        "numpy.load",
        "numpy.save",
        "numpy.savez",
        "numpy.savez_compressed",
        "numpy.savetxt",
        "numpy.loadtxt",
        "numpy.genfromtxt",
        "numpy.fromfile",
        "numpy.fromregex",
        "numpy.memmap",
        "numpy.DataSource",
        "numpy.ma.mrecords",
        "scipy.linalg.cython_blas",
        "scipy.linalg.cython_lapack",
        "scipy.special.cython_special",
        "torch.hub",
        "torch.ops",
        "torch.utils",
        "torch.library",
        "torch.classes",
        "torch.package",
        "torch.serialization",
        "torch.multiprocessing",
        "torch.distributed",
        "torch.fx",
        "torch.jit",
        "torch.onnx",
        "torch.profiler",
        "torch.testing",
        "torch.export",
        "torch.os",
        "torch.sys",
        "torch.ctypes",
        "torch.importlib",
        "torch.load",
        "torch.save",
        "torch.from_file",
        "torch.glob",
        "torch.compile",
        "torch.compiler",
        "torch.nn.parallel",
        "torch.cuda.tunable",
        "torch.cuda.gds",
        "torch.autograd.profiler",
        "torch.autograd.function.hooks",
        "tensorflow.io",
        "tensorflow.gfile",
        "tensorflow.saved_model",
        "tensorflow.keras.utils",
        "tensorflow.keras.models",
        "tensorflow.keras.saving",
        "tensorflow.summary",
        "tensorflow.data",
        "tensorflow.compat",
        "tensorflow.distribute",
        "tensorflow.lite",
        "tensorflow.train",
        "tensorflow.profiler",
        "tensorflow.debugging",
        "tensorflow.sysconfig",
        "tensorflow.tpu",
        "tensorflow.print",
        "tensorflow.dtensor",
        "tensorflow.keras",
        "tensorflow.initializers",
        "tensorflow.losses",
        "tensorflow.metrics",
        "tensorflow.optimizers",
        "tensorflow.feature_column",
        "tensorflow.graph_util",
        "tensorflow.mlir",
        "tensorflow.queue",
        "tensorflow.security",
        "tensorflow.test",
        "tensorflow.tools",
        "tensorflow.xla",
        "tensorflow.raw_ops",
        "tensorflow.lookup",
        "tensorflow.autograph",
        "tensorflow.load_library",
        "tensorflow.load_op_library",
        "jax.profiler",
        "jax.distributed",
        "jax.tools",
        "jax.extend",
        "jax.experimental",
        "jax.export",
        "jax.monitoring",
        "jax.config",
        "jax.interpreters",
        "jax.version",
        "cupy.cuda",
        "cupy.testing",
        "cupy.RawModule",
        "pyclesperanto.execute",
        "pyclesperanto.native_execute",
        "typing.get_type_hints",
        "typing.ForwardRef",
        "dataclasses.make_dataclass",
        # scikit-image calls that import any module by name or read a file by name
        "skimage.util.is_installed",
        "skimage.util.lookfor",
        "skimage.lookfor",
        "skimage.feature.Cascade",
    }
) | frozenset(_STATE_SETTERS)

# -- attributes --------------------------------------------------------------------------------

#: Attribute names refused on any object. Each reaches files, processes, native code or
#: interpreter internals from something the allowlist hands out; the module names among them
#: are re-exported by allowed modules (``typing.sys``, ``enum.bltns``, ``torch.os``).
#: ``update_wrapper`` reads and writes attributes named by strings (a ``getattr``);
#: ``formatwarning``/``showwarning``/``warn_explicit`` read a line of any file through
#: ``linecache``; ``numpy.ma.mrecords.openfile`` opens any file; ``torch.cuda.gds.GdsFile`` is
#: ``os.open`` with caller flags. The excluded submodules whose names are not generic words are
#: refused by name too, so a module re-exported under an allowed one
#: (``torch.nn.functional.torch.serialization``) does not lead to them.
_DENIED_ATTRIBUTES = frozenset(
    """
    f2py ctypeslib ctypes testing lib distutils
    load loads loadtxt fromfile tofile from_file to_file memmap open_memmap save savez
    savez_compressed savetxt savemat loadmat genfromtxt fromregex DataSource dump dumps open
    os sys subprocess importlib builtins bltns posix nt hub ops io gfile saved_model library
    classes cpp_extension utils shutil pathlib tempfile pickle marshal multiprocessing asyncio
    runpy gc inspect threading socket types platform sysconfig site contextlib copyreg
    operator attrgetter methodcaller system popen spawnv execv get_type_hints ForwardRef
    global_enum test register seed singledispatch singledispatchmethod simplefilter
    filterwarnings resetwarnings set_global_backend set_backend register_backend seterr
    seterrcall set_printoptions setbufsize frombuffer
    evaluate_forward_ref make_dataclass cell_contents mro exec getattr setattr delattr globals
    locals vars breakpoint
    f_back f_globals f_locals f_builtins f_code f_trace f_lasti f_trace_lines f_trace_opcodes
    execute native_execute RawModule core keyword xpx scipy skimage glob traceback logging
    concurrent weakref uuid json contextvars ABCMeta EnumMeta EnumType as_strided
    update_wrapper formatwarning showwarning warn_explicit linecache getline getlines
    mrecords openfile fromtextfile gds GdsFile
    serialization package fx onnx profiler distributed distribute dtensor experimental
    interpreters monitoring tunable cython_blas cython_lapack cython_special raw_ops autograph
    compat compiler tpu xla mlir graph_util feature_column keras conftest parallel
    """.split()
)

#: Attribute name prefixes refused on any object: file I/O families (``load_state_dict``,
#: ``savez_compressed``, ``dump``) and frame/code/generator internals (``gi_frame``,
#: ``co_code``, ``tb_frame``).
_DENIED_ATTRIBUTE_PREFIXES: tuple[str, ...] = (
    "load",
    "save",
    "dump",
    "co_",
    "gi_",
    "cr_",
    "ag_",
    "tb_",
)

#: Prefixes of the interpreter's code, generator, coroutine and traceback attributes.
_INTERPRETER_PREFIXES = ("co_", "gi_", "cr_", "ag_", "tb_", "f_")

#: Denied attribute names that are module names: a route only on a module (``np.f2py.os``),
#: an ordinary name on the user's own values (``self.site``).
_MODULE_NAMED_ATTRIBUTES = frozenset(
    """
    f2py ctypeslib ctypes testing lib distutils os sys subprocess importlib builtins posix nt
    hub ops io gfile saved_model library classes cpp_extension utils shutil pathlib tempfile
    pickle marshal multiprocessing asyncio runpy gc inspect threading socket types platform
    sysconfig site contextlib copyreg operator keyword core scipy skimage glob traceback
    logging test register seed
    """.split()
)

#: The namedtuple API (``_asdict()``, ``_replace()``): private-looking names that are public.
_ALLOWED_PRIVATE_ATTRIBUTES = frozenset(
    {"_asdict", "_replace", "_fields", "_make", "_field_defaults"}
)

#: Dunder attributes that may be *read*. Writing any dunder attribute is refused.
_ALLOWED_DUNDER_ATTRIBUTES = frozenset(
    {"__name__", "__qualname__", "__doc__", "__version__", "__init__", "__len__"}
)

#: Dunder *names* (variables) that may be read: ``if __name__ == "__main__":``, ``__all__``.
_ALLOWED_DUNDER_NAMES = frozenset(
    {"__name__", "__doc__", "__all__", "__version__", "__author__", "__slots__"}
)
#: ... and those that may be assigned (not ``__name__``: it becomes the functions' ``__module__``).
_STORABLE_DUNDER_NAMES = frozenset({"__doc__", "__all__", "__version__", "__author__", "__slots__"})

#: Builtins refused by reference (``f = eval`` as well as ``eval(...)``) and as names a user
#: binds (``def open(...)``): each reads files, runs strings as code, or walks the interpreter.
_DENIED_BUILTINS = frozenset(
    """
    eval exec compile open __import__ globals vars locals getattr setattr delattr breakpoint
    input help memoryview exit quit copyright credits license dir __build_class__
    """.split()
)

#: Dunder methods a class may define: construction, representation, containers, iteration,
#: comparison, arithmetic and context managers. Anything else is refused, in particular what runs
#: when a class is created or dropped (``__init_subclass__``, ``__set_name__``, ``__del__``),
#: pickling hooks (``__reduce__``), and the buffer protocols numpy and the frameworks read raw
#: memory through (``__array_interface__``, ``__cuda_array_interface__``, ``__dlpack__``).
_ALLOWED_CLASS_DUNDERS = frozenset(
    {
        f"__{name}__"
        for name in """init post_init new repr str format len length_hint iter next reversed
        contains getitem setitem delitem missing call enter exit aenter aexit aiter anext hash
        bool eq ne lt le gt ge neg pos abs invert round floor ceil trunc int float complex index
        copy deepcopy array getattr setattr delattr dir sizeof get set delete""".split()
    }
    | {
        f"__{prefix}{name}__"
        for name in """add sub mul matmul truediv floordiv mod divmod pow lshift rshift and xor
        or""".split()
        for prefix in ("", "r", "i")
    }
)

# -- decorators and definition-time calls ------------------------------------------------------

_ALLOWED_DECORATORS = frozenset(
    {
        "builtins.staticmethod",
        "builtins.classmethod",
        "builtins.property",
        "functools.wraps",
        "functools.lru_cache",
        "functools.cache",
        "functools.cached_property",
        "functools.total_ordering",
        "dataclasses.dataclass",
        "typing.overload",
        "typing.final",
        "typing.runtime_checkable",
        "abc.abstractmethod",
        "enum.unique",
        "torch.no_grad",
        "torch.inference_mode",
        "jax.jit",
        "jax.vmap",
    }
) | frozenset(ARTIFACT_DECORATOR_PATHS)

#: Callables that may run at definition time (module level, class bodies, defaults,
#: annotations, decorator arguments): constructors of constants, nothing that does work.
_DEFINITION_TIME_CALLS = frozenset(
    {
        *(
            f"builtins.{name}"
            for name in """int float complex str bytes bool tuple list dict set frozenset range
            slice object len min max abs round sorted reversed enumerate zip sum any all chr ord
            divmod pow""".split()
        ),
        *ARTIFACT_SPEC_PATHS,
        "typing.TypeVar",
        "typing.NewType",
        "typing.NamedTuple",
        "typing.TypedDict",
        "typing.ParamSpec",
        "typing.cast",
        "collections.namedtuple",
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.Counter",
        "collections.deque",
        "dataclasses.field",
        "enum.auto",
        "enum.Enum",
        "enum.IntEnum",
        "enum.Flag",
        "enum.IntFlag",
        "functools.partial",
        "re.compile",
        "fractions.Fraction",
        "decimal.Decimal",
        *(
            f"numpy.{name}"
            for name in """array asarray dtype finfo iinfo float16 float32 float64 int8 int16
            int32 int64 uint8 uint16 uint32 uint64 bool_ complex64 complex128 ones zeros full eye
            identity arange linspace logspace deg2rad radians sqrt exp log""".split()
        ),
        "numpy.random.default_rng",
        "scipy.ndimage.generate_binary_structure",
        "scipy.ndimage.iterate_structure",
        *(
            f"skimage.morphology.{name}"
            for name in """disk ball square rectangle diamond octagon star cube
            footprint_rectangle""".split()
        ),
        "torch.tensor",
        "torch.device",
    }
)
#: Modules whose every function may run at definition time (pure math on numbers).
#: Modules whose functions a file may call at module level: numpy's array arithmetic (a kernel
#: computed once, ``KERNEL = np.outer(np.hanning(5), np.hanning(5))``) computes and returns.
_DEFINITION_TIME_CALL_MODULES: tuple[str, ...] = (
    "math",
    "cmath",
    "numpy",
    "numpy.linalg",
    "numpy.fft",
)

#: ... except the calls that change numpy's state for the whole host.
_DEFINITION_TIME_DENIED = frozenset(
    f"numpy.{name}"
    for name in """seterr seterrcall seterrobj set_printoptions printoptions setbufsize
    set_string_function errstate""".split()
)


@dataclass(frozen=True)
class ImportPolicy:
    """What user code may import, read and call; see ``docs/validation.md``.

    ``ImportPolicy.default()`` is the policy of the ``user`` trust level. Settings widen it with
    :meth:`with_additions`::

        >>> policy = ImportPolicy.default().with_additions(modules=["pandas"])
        >>> policy.path_status("pandas.DataFrame")
        'allowed'
    """

    #: dotted paths whose whole subtree is allowed (``scipy.ndimage``).
    allowed_modules: frozenset[str] = _ALLOWED_MODULES
    #: dotted paths excluded inside allowed packages (``numpy.f2py``); longest entry wins.
    denied_modules: frozenset[str] = _DENIED_MODULES
    #: modules that get the documented "Dangerous import detected" message.
    blocked_modules: frozenset[str] = _BLOCKED_MODULES
    denied_attributes: frozenset[str] = _DENIED_ATTRIBUTES
    denied_attribute_prefixes: tuple[str, ...] = _DENIED_ATTRIBUTE_PREFIXES
    allowed_dunder_attributes: frozenset[str] = _ALLOWED_DUNDER_ATTRIBUTES
    allowed_private_attributes: frozenset[str] = _ALLOWED_PRIVATE_ATTRIBUTES
    allowed_dunder_names: frozenset[str] = _ALLOWED_DUNDER_NAMES
    storable_dunder_names: frozenset[str] = _STORABLE_DUNDER_NAMES
    denied_builtins: frozenset[str] = _DENIED_BUILTINS
    allowed_class_dunders: frozenset[str] = _ALLOWED_CLASS_DUNDERS
    allowed_decorators: frozenset[str] = _ALLOWED_DECORATORS
    definition_time_calls: frozenset[str] = _DEFINITION_TIME_CALLS
    definition_time_call_modules: tuple[str, ...] = _DEFINITION_TIME_CALL_MODULES
    #: attribute names allowed even though they match a denied prefix (settings additions).
    allowed_attributes: frozenset[str] = frozenset()
    #: limits of the traversal: source size in bytes, tokens (counted before parsing),
    #: syntax-tree nodes, nesting depth.
    max_source_bytes: int = 1_000_000
    max_tokens: int = 200_000
    max_nodes: int = 200_000
    max_depth: int = 100
    #: CPU seconds a validation may take, parse included (validation/budget.py).
    max_seconds: float = 1.0

    def excluded_reason(self, path: str) -> tuple[str, str]:
        """Why an excluded ``path`` is refused, and what to do instead (for the message)."""
        if path in _STATE_SETTERS or any(path.startswith(p + ".") for p in _STATE_SETTERS):
            return (
                "it changes the state of the whole process, so every later function in the "
                "host would run under it",
                "Pass the setting to the call that needs it (a torch.Generator() with "
                "generator=, dtype=..., a decimal.localcontext()), or set it outside the function.",
            )
        return (
            "it reaches files, processes, native code or the network",
            "Use the processing functions of the package; data comes in as the image "
            "argument and goes out as the return value.",
        )

    @classmethod
    def default(cls) -> ImportPolicy:
        """The policy of the ``user`` level (cached; the object is immutable)."""
        return _default_policy()

    def with_additions(
        self,
        *,
        modules: Iterable[str] = (),
        attributes: Iterable[str] = (),
        decorators: Iterable[str] = (),
    ) -> ImportPolicy:
        """A copy that also allows ``modules`` (with their submodules), ``attributes`` and
        ``decorators`` (dotted paths such as ``"numba.njit"``). Additions win over the built-in
        deny lists.

        An attribute is a name (``"load_state_dict"``: allowed on any object) or a dotted path
        (``"numpy.load"``: that path is allowed, and its last name is no longer refused by name;
        other excluded paths such as ``torch.load`` stay refused).
        """
        modules = frozenset(m.strip() for m in modules if m and m.strip())
        attributes = frozenset(a.strip() for a in attributes if a and a.strip())
        decorators = frozenset(d.strip() for d in decorators if d and d.strip())
        paths = modules | frozenset(a for a in attributes if "." in a)
        names = frozenset(a.rsplit(".", 1)[-1] for a in attributes)
        denied = frozenset(
            path
            for path in self.denied_modules
            if not any(path == m or path.startswith(m + ".") for m in paths)
        )
        blocked = frozenset(
            name
            for name in self.blocked_modules
            if not any(m.split(".")[0] == name for m in modules)
        )
        return replace(
            self,
            allowed_modules=self.allowed_modules | paths,
            denied_modules=denied,
            blocked_modules=blocked,
            denied_attributes=self.denied_attributes - names,
            denied_builtins=self.denied_builtins - names,
            allowed_attributes=self.allowed_attributes | names,
            allowed_dunder_attributes=self.allowed_dunder_attributes
            | frozenset(a for a in names if a.startswith("__") and a.endswith("__")),
            allowed_decorators=self.allowed_decorators | decorators,
        )

    # -- queries (the tables behind them live in a PolicyIndex, not in the policy) -----------
    def path_status(self, path: str) -> str:
        """``allowed``, ``denied``, ``parent`` or ``unknown`` for a dotted module path.

        The longest entry of the allow and deny lists that is a prefix of ``path`` (at a dot)
        decides; a path that only leads to allowed entries is a ``parent``.
        """
        return index_of(self).path_status(path)

    def has_exclusions_below(self, path: str) -> bool:
        """True when an allowed ``path`` contains excluded parts (``torch``: ``torch.jit``).

        Such a module may only be used through attribute chains, which are checked by path; as a
        value (``t = torch``, ``f(torch)``) it would carry its excluded parts past the check.
        """
        return index_of(self).has_exclusions_below(path)

    def ownable_attribute(self, name: str) -> bool:
        """True when a denied spelling may also be an attribute a user's own class defines
        (``save_mask``, ``loadings``, ``site``): a prefix match, or a module's name. The
        functions that read, write or run things (``tofile``, ``load``, ``system``) and the
        interpreter's frame and code attributes never are."""
        if name.startswith(_INTERPRETER_PREFIXES):
            return False
        if name in self.denied_attributes:
            return name in _MODULE_NAMED_ATTRIBUTES
        return True

    def attribute_denied(self, name: str) -> bool:
        """True when the attribute name is on the deny list or starts with a denied prefix."""
        if name in self.denied_attributes:
            return True
        if name in self.allowed_attributes:
            return False
        return name.startswith(self.denied_attribute_prefixes)

    def is_blocked(self, module: str) -> bool:
        """True for modules on the documented blocklist (they get its message)."""
        return module.split(".", 1)[0] in self.blocked_modules

    def definition_time_call_allowed(self, path: str) -> bool:
        """True when calling ``path`` at definition time is allowed."""
        if path in self.definition_time_calls:
            return True
        if path in _DEFINITION_TIME_DENIED:
            return False
        module = path.rpartition(".")[0]
        return module in self.definition_time_call_modules


@functools.lru_cache(maxsize=1)
def _default_policy() -> ImportPolicy:
    return ImportPolicy()
