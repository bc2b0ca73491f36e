"""The lazy-dataclass framework: resolution, the None-keeping patch, user code, code generation.

Covers what the OpenHCS lazy-dataclass document describes (None preserved inside the block,
defaults resolved outside, cleanup on exceptions, discovery without hand-kept lists) and the
fixes: thread/task safety, plugin-defined types, __post_init__, nesting, frozen classes,
positional arguments.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import gc
import importlib
import sys
import threading
import weakref
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openhcs_plugins.lazy import (
    LazyResolutionError,
    UserCodeError,
    config_context,
    discover_lazy_dataclass_types,
    exec_user_code,
    explicitly_set_fields,
    has_lazy_resolution,
    make_lazy,
    patch_lazy_constructors,
    resolve,
    to_base_config,
    to_code,
)


class GroupBy(Enum):
    WELL = "well"
    SITE = "site"


@dataclass(frozen=True)
class WellFilterConfig:
    well_filter: int | None = None
    mode: str = "include"


@dataclass(frozen=True)
class ProcessingConfig:
    group_by: GroupBy = GroupBy.WELL
    workers: int = 4
    well_filter_config: WellFilterConfig = field(default_factory=WellFilterConfig)
    tags: tuple[str, ...] = ()


@dataclass
class MutableConfig:
    """Not frozen; normalises its name in __post_init__ (reads it, writes it back)."""

    name: str = "default-name"
    count: int = 1
    post_init_calls: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        # The OpenHCS bug in miniature: reading a field here resolves it, writing it back
        # turns "inherited" into "set".
        self.name = self.name.upper() if self.name is not None else None
        self.post_init_calls = (self.post_init_calls or 0) + 1


@dataclass
class Required:
    needed: int
    optional: str = "x"


@dataclass(frozen=True)
class SpecialProcessingConfig(ProcessingConfig):
    extra: str = "special"


LazyWellFilterConfig = make_lazy(WellFilterConfig)
LazyProcessingConfig = make_lazy(ProcessingConfig)
LazyMutableConfig = make_lazy(MutableConfig)
LazyRequired = make_lazy(Required)
LazySpecialProcessingConfig = make_lazy(SpecialProcessingConfig)


@dataclass
class Misc:
    path: object = None
    mapping: object = None
    items: object = None
    number: object = None


LazyMisc = make_lazy(Misc)


def raw(obj: object, name: str) -> object:
    return object.__getattribute__(obj, name)


# ---------------------------------------------------------------------------------------------
# the lazy twin


def test_lazy_twin_fields_default_to_none_and_read_as_class_defaults():
    cfg = LazyProcessingConfig()
    assert all(raw(cfg, f.name) is None for f in dataclasses.fields(cfg))
    assert cfg.group_by is GroupBy.WELL
    assert cfg.workers == 4
    assert cfg.tags == ()


def test_lazy_twin_subclasses_base_and_nested_dataclass_fields_become_lazy():
    cfg = LazyProcessingConfig()
    assert isinstance(cfg, ProcessingConfig)
    assert type(cfg.well_filter_config) is LazyWellFilterConfig
    assert cfg.well_filter_config.mode == "include"
    hints = {f.name: f.type for f in dataclasses.fields(LazyProcessingConfig)}
    assert hints["well_filter_config"] == (LazyWellFilterConfig | None)


def test_make_lazy_returns_the_same_twin_and_a_lazy_type_unchanged():
    assert make_lazy(ProcessingConfig) is LazyProcessingConfig
    assert make_lazy(LazyProcessingConfig) is LazyProcessingConfig


def test_make_lazy_rejects_what_is_not_a_dataclass_type():
    with pytest.raises(TypeError, match="dataclass type"):
        make_lazy(int)
    with pytest.raises(TypeError, match="dataclass type"):
        make_lazy(ProcessingConfig())  # an instance, not a type


def test_has_lazy_resolution_tells_lazy_types_and_instances_from_concrete_ones():
    assert has_lazy_resolution(LazyProcessingConfig)
    assert has_lazy_resolution(LazyProcessingConfig())
    assert not has_lazy_resolution(ProcessingConfig)
    assert not has_lazy_resolution(ProcessingConfig())
    assert not has_lazy_resolution(42)


def test_raw_access_returns_what_was_set_and_reading_resolves():
    cfg = LazyProcessingConfig(workers=8)
    with config_context(ProcessingConfig(group_by=GroupBy.SITE)):
        assert cfg.group_by is GroupBy.SITE
        assert raw(cfg, "group_by") is None
        assert raw(cfg, "workers") == 8


def test_none_fields_resolve_through_the_context_stack_innermost_first():
    global_cfg = ProcessingConfig(workers=2, group_by=GroupBy.SITE, tags=("g",))
    pipeline_cfg = LazyProcessingConfig(workers=16)
    step_cfg = LazyProcessingConfig(tags=("step",))
    with config_context(global_cfg), config_context(pipeline_cfg):
        assert step_cfg.workers == 16  # pipeline
        assert step_cfg.group_by is GroupBy.SITE  # global
        assert step_cfg.tags == ("step",)  # its own
        with config_context(step_cfg):
            assert LazyProcessingConfig().tags == ("step",)
    assert step_cfg.workers == 4  # no context: class default


def test_context_provides_values_by_type_from_nested_fields_and_subclasses():
    global_cfg = SpecialProcessingConfig(
        workers=3, well_filter_config=WellFilterConfig(well_filter=7, mode="exclude")
    )
    with config_context(global_cfg):
        # A SpecialProcessingConfig is a ProcessingConfig: it provides ProcessingConfig fields.
        assert LazyProcessingConfig().workers == 3
        # A WellFilterConfig nested in a context object provides WellFilterConfig fields.
        assert LazyWellFilterConfig().well_filter == 7
        assert LazyProcessingConfig().well_filter_config.mode == "exclude"
    with config_context(ProcessingConfig(workers=5)):
        # A plain ProcessingConfig does not provide the subclass's own fields.
        special = LazySpecialProcessingConfig()
        assert special.workers == 5
        assert special.extra == "special"


def test_a_lazy_context_with_none_passes_the_lookup_outward():
    with config_context(ProcessingConfig(workers=9)), config_context(LazyProcessingConfig()):
        assert LazyProcessingConfig().workers == 9


def test_config_context_rejects_what_is_not_a_dataclass_instance():
    with pytest.raises(TypeError, match="dataclass instance"):
        with config_context(ProcessingConfig):
            pass


def test_resolve_gives_a_concrete_copy_with_nested_configs_resolved():
    cfg = LazyProcessingConfig(well_filter_config=LazyWellFilterConfig(well_filter=3))
    with config_context(ProcessingConfig(workers=12)):
        concrete = resolve(cfg)
        assert cfg.to_base_config() == concrete
        assert to_base_config(cfg) == concrete
    assert type(concrete) is ProcessingConfig
    assert concrete == ProcessingConfig(
        workers=12, well_filter_config=WellFilterConfig(well_filter=3, mode="include")
    )
    assert resolve(concrete) is concrete


def test_resolve_names_a_required_field_nobody_provides():
    with pytest.raises(LazyResolutionError, match=r"LazyRequired\.needed"):
        resolve(LazyRequired())
    with config_context(Required(needed=5)):
        assert resolve(LazyRequired()) == Required(needed=5)


def test_equality_hash_and_repr_use_stored_values():
    a = LazyProcessingConfig(workers=8)
    assert a == LazyProcessingConfig(workers=8)
    assert a != LazyProcessingConfig(workers=8, group_by=GroupBy.WELL)  # set vs inherited
    assert hash(a) == hash(LazyProcessingConfig(workers=8))
    assert repr(a) == "LazyProcessingConfig(workers=8)"


# ---------------------------------------------------------------------------------------------
# construction and the patch


def test_none_is_preserved_inside_the_block_and_defaults_resolve_outside():
    with patch_lazy_constructors():
        cfg = LazyProcessingConfig(group_by=None, workers=2)
        assert cfg.group_by is None
        assert cfg.well_filter_config is None
        assert cfg.workers == 2
    assert raw(cfg, "group_by") is None  # still inherited after the block
    assert cfg.group_by is GroupBy.WELL  # read outside the block: resolved
    assert LazyProcessingConfig(group_by=None).group_by is GroupBy.WELL


def test_post_init_runs_inside_the_block_and_sees_stored_values():
    with config_context(MutableConfig(name="pipeline")):
        with patch_lazy_constructors():
            kept = LazyMutableConfig(count=3)
            named = LazyMutableConfig(name="mine")
        baked = LazyMutableConfig(count=3)
    assert raw(kept, "post_init_calls") == 1  # __post_init__ ran
    assert raw(kept, "name") is None  # and kept "inherit"
    assert raw(named, "name") == "MINE"  # it normalised what was set
    # Outside the block __post_init__ reads resolved values: the inherited value is baked in.
    # This is why code editors must build configs inside the block.
    assert raw(baked, "name") == "PIPELINE"
    assert explicitly_set_fields(baked) == {"count"}


def test_explicitly_set_fields_records_non_none_arguments_only():
    with patch_lazy_constructors():
        cfg = LazyProcessingConfig(GroupBy.SITE, workers=None, tags=("a",))
    assert explicitly_set_fields(cfg) == {"group_by", "tags"}
    assert explicitly_set_fields(LazyProcessingConfig()) == frozenset()
    assert explicitly_set_fields(ProcessingConfig()) == {
        "group_by",
        "workers",
        "well_filter_config",
        "tags",
    }


def test_assignment_to_a_non_frozen_twin_updates_the_explicit_fields():
    cfg = LazyMutableConfig()
    assert "count" not in explicitly_set_fields(cfg)
    cfg.count = 5
    assert "count" in explicitly_set_fields(cfg)
    cfg.count = None
    assert "count" not in explicitly_set_fields(cfg)
    assert cfg.count == 1


@pytest.mark.parametrize("patched", [False, True], ids=["outside", "inside"])
def test_positional_arguments_map_to_fields_in_order_and_count_as_explicit(patched):
    with patch_lazy_constructors() if patched else _nothing():
        cfg = LazyProcessingConfig(GroupBy.SITE, 6)
        assert raw(cfg, "group_by") is GroupBy.SITE
        assert raw(cfg, "workers") == 6
        assert raw(cfg, "tags") is None
    assert explicitly_set_fields(cfg) == {"group_by", "workers"}


@pytest.mark.parametrize("patched", [False, True], ids=["outside", "inside"])
def test_bad_arguments_raise_type_error_naming_the_class(patched):
    with patch_lazy_constructors() if patched else _nothing():
        with pytest.raises(TypeError, match=r"LazyProcessingConfig\(\) takes at most 4"):
            LazyProcessingConfig(GroupBy.SITE, 1, None, (), "one too many")
        with pytest.raises(TypeError, match=r"LazyProcessingConfig\(\).*'wokers'.*workers"):
            LazyProcessingConfig(wokers=1)
        with pytest.raises(TypeError, match="multiple values for argument 'group_by'"):
            LazyProcessingConfig(GroupBy.SITE, group_by=GroupBy.WELL)


def test_dataclasses_replace_keeps_none_inside_the_block_and_bakes_values_outside():
    cfg = LazyProcessingConfig(workers=2)
    with patch_lazy_constructors():
        kept = dataclasses.replace(cfg, tags=("t",))
    assert explicitly_set_fields(kept) == {"workers", "tags"}
    assert raw(kept, "group_by") is None
    baked = dataclasses.replace(cfg, tags=("t",))  # replace reads every field: they resolve
    assert raw(baked, "group_by") is GroupBy.WELL


def test_the_patch_is_undone_when_the_block_raises():
    with pytest.raises(RuntimeError, match="boom"):
        with patch_lazy_constructors():
            assert LazyProcessingConfig().workers is None
            raise RuntimeError("boom")
    assert LazyProcessingConfig().workers == 4


def test_nested_patches_add_types_and_each_exit_restores_the_outer_state():
    with patch_lazy_constructors([LazyProcessingConfig]):
        assert LazyProcessingConfig().workers is None
        assert LazyMutableConfig().count == 1
        with pytest.raises(ValueError):
            with patch_lazy_constructors([MutableConfig]):  # a concrete type stands for its twin
                assert LazyMutableConfig().count is None
                assert LazyProcessingConfig().workers is None
                raise ValueError
        assert LazyMutableConfig().count == 1
        assert LazyProcessingConfig().workers is None
        with patch_lazy_constructors():
            assert LazyMutableConfig().count is None
        assert LazyMutableConfig().count == 1
    assert LazyProcessingConfig().workers == 4


def test_patching_a_type_also_patches_its_nested_twins():
    with patch_lazy_constructors([LazyProcessingConfig]):
        inner = LazyWellFilterConfig()
        assert inner.mode is None
    assert inner.mode == "include"


def test_patch_rejects_types_that_are_not_dataclasses():
    with pytest.raises(TypeError, match="dataclass types"):
        with patch_lazy_constructors([int]):
            pass


def test_the_patch_swaps_nothing_on_any_class():
    before = {t: vars(t).copy() for t in (LazyProcessingConfig, ProcessingConfig)}
    with patch_lazy_constructors():
        during = {t: vars(t).copy() for t in before}
    assert before == during
    assert {t: vars(t).copy() for t in before} == before


def test_the_patch_covers_lazy_types_created_inside_the_block():
    @dataclass
    class LateConfig:
        value: int = 1

    with patch_lazy_constructors():
        late = make_lazy(LateConfig)
        assert late().value is None
    assert late().value == 1


def test_a_thread_constructing_during_the_block_sees_normal_behaviour():
    block_entered = threading.Event()
    thread_done = threading.Event()
    seen: dict[str, object] = {}

    def worker() -> None:
        assert block_entered.wait(10)
        cfg = LazyMutableConfig(count=2)
        seen["count_of_empty"] = LazyProcessingConfig().workers
        seen["name"] = raw(cfg, "name")  # __post_init__ saw the resolved default
        thread_done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with patch_lazy_constructors():
        block_entered.set()
        # The block stays open until the other thread has built and read its configs.
        assert thread_done.wait(10)
        mine = LazyMutableConfig(count=2)
        assert LazyProcessingConfig().workers is None
    thread.join()
    assert seen == {"count_of_empty": 4, "name": "DEFAULT-NAME"}
    assert raw(mine, "name") is None


def test_a_thread_started_inside_the_block_is_normal_unless_given_the_context():
    results: dict[str, object] = {}

    def read(label: str) -> None:
        results[label] = LazyProcessingConfig().workers

    with patch_lazy_constructors():
        plain = threading.Thread(target=read, args=("plain",))
        ctx = contextvars.copy_context()
        copied = threading.Thread(target=ctx.run, args=(read, "copied"))
        plain.start()
        copied.start()
        plain.join()
        copied.join()
    assert results == {"plain": 4, "copied": None}


def test_an_asyncio_task_created_before_the_block_sees_normal_behaviour():
    async def main() -> dict[str, object]:
        go = asyncio.Event()
        seen: dict[str, object] = {}

        async def outside_task() -> None:
            await go.wait()
            seen["outside"] = LazyProcessingConfig().workers

        async def inside_task() -> None:
            seen["inside"] = LazyProcessingConfig().workers

        early = asyncio.create_task(outside_task())
        await asyncio.sleep(0)
        with patch_lazy_constructors():
            late = asyncio.create_task(inside_task())  # inherits the block
            go.set()
            await asyncio.gather(early, late)  # both run while the block is open
            seen["block"] = LazyProcessingConfig().workers
        return seen

    assert asyncio.run(main()) == {"outside": 4, "inside": None, "block": None}


def test_config_context_is_per_thread():
    seen: list[int] = []
    with config_context(ProcessingConfig(workers=99)):
        thread = threading.Thread(target=lambda: seen.append(LazyProcessingConfig().workers))
        thread.start()
        thread.join()
        assert LazyProcessingConfig().workers == 99
    assert seen == [4]


def test_frozen_twins_stay_frozen_and_keep_none_inside_the_block():
    assert LazyProcessingConfig.__dataclass_params__.frozen
    with patch_lazy_constructors():
        cfg = LazyProcessingConfig(workers=2)
        assert cfg.group_by is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.workers = 3
    assert cfg.group_by is GroupBy.WELL
    assert {cfg: 1}[LazyProcessingConfig(workers=2)] == 1  # hashable


# ---------------------------------------------------------------------------------------------
# discovery


def test_discovery_in_a_module_finds_its_lazy_types_without_a_list():
    found = discover_lazy_dataclass_types(sys.modules[__name__])
    assert {
        LazyWellFilterConfig,
        LazyProcessingConfig,
        LazyMutableConfig,
        LazyRequired,
        LazySpecialProcessingConfig,
    } <= set(found)
    assert discover_lazy_dataclass_types(__name__) == found
    settings = importlib.import_module("openhcs_plugins.config.settings")
    assert settings.LazySettings not in found
    assert settings.LazySettings in discover_lazy_dataclass_types(settings)


def test_discovery_finds_lazy_types_made_by_a_plugin_module(tmp_path, monkeypatch):
    (tmp_path / "lab_plugin_cfg.py").write_text(
        "from dataclasses import dataclass\n"
        "from openhcs_plugins.lazy import make_lazy\n"
        "\n"
        "@dataclass(frozen=True)\n"
        "class BlurConfig:\n"
        "    sigma: float = 1.5\n"
        "\n"
        "LazyBlurConfig = make_lazy(BlurConfig)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = importlib.import_module("lab_plugin_cfg")
    try:
        assert plugin.LazyBlurConfig in discover_lazy_dataclass_types()
        assert discover_lazy_dataclass_types(plugin) == [plugin.LazyBlurConfig]
        assert discover_lazy_dataclass_types("lab_plugin_cfg") == [plugin.LazyBlurConfig]
        # ... and the plugin's type is patched too, with no registration step.
        with patch_lazy_constructors():
            assert plugin.LazyBlurConfig().sigma is None
        assert plugin.LazyBlurConfig().sigma == 1.5
        ns = exec_user_code(to_code(plugin.LazyBlurConfig(sigma=2.0)))
        assert ns["config"] == plugin.LazyBlurConfig(sigma=2.0)
    finally:
        sys.modules.pop("lab_plugin_cfg", None)


def test_discovery_forgets_lazy_types_nobody_holds():
    @dataclass
    class Temporary:
        value: int = 0

    twin = make_lazy(Temporary)
    assert twin in discover_lazy_dataclass_types()
    ref = weakref.ref(twin)
    del twin, Temporary
    gc.collect()
    assert ref() is None
    assert all(t.__qualname__ != "LazyTemporary" for t in discover_lazy_dataclass_types())


# ---------------------------------------------------------------------------------------------
# user code


def test_exec_user_code_builds_configs_that_keep_none():
    code = (
        f"from {__name__} import LazyProcessingConfig, LazyWellFilterConfig\n"
        "config = LazyProcessingConfig(\n"
        "    well_filter_config=LazyWellFilterConfig(well_filter=3),\n"
        ")\n"
        "seen_inside = config.workers\n"
    )
    ns = exec_user_code(code)
    config = ns["config"]
    assert ns["seen_inside"] is None  # nothing resolves while the code runs
    assert raw(config.well_filter_config, "mode") is None  # the OpenHCS nested-field bug
    assert config.well_filter_config.mode == "include"
    assert explicitly_set_fields(config) == {"well_filter_config"}


def test_exec_user_code_fills_and_returns_the_given_namespace():
    namespace = {"LazyProcessingConfig": LazyProcessingConfig}
    result = exec_user_code("config = LazyProcessingConfig(workers=1)", namespace)
    assert result is namespace
    assert namespace["config"] == LazyProcessingConfig(workers=1)


def test_exec_user_code_reports_a_syntax_error_with_its_line():
    with pytest.raises(UserCodeError) as info:
        exec_user_code("a = 1\nb = (\n", filename="editor.py")
    err = info.value
    assert err.line_number == 2
    assert err.filename == "editor.py"
    assert "syntax error" in err.message
    assert str(err).startswith("editor.py:2: syntax error")
    assert isinstance(err.__cause__, SyntaxError)


def test_exec_user_code_reports_a_runtime_error_at_the_user_line():
    code = (
        f"from {__name__} import LazyProcessingConfig\n"
        "\n"
        "def build():\n"
        "    return LazyProcessingConfig(wokers=2)\n"
        "\n"
        "config = build()\n"
    )
    with pytest.raises(UserCodeError) as info:
        exec_user_code(code)
    err = info.value
    assert err.line_number == 4  # the deepest line of the user's code, not the call site
    assert err.code_snippet == "return LazyProcessingConfig(wokers=2)"
    assert "TypeError" in err.message and "wokers" in err.message
    assert isinstance(err.__cause__, TypeError)
    assert LazyProcessingConfig().workers == 4  # the patch was undone


def test_exec_user_code_turns_system_exit_into_an_error():
    with pytest.raises(UserCodeError, match="SystemExit") as info:
        exec_user_code("import sys\nsys.exit(3)\n")
    assert info.value.line_number == 2


def test_exec_user_code_accepts_bytes():
    assert exec_user_code(b"x = 'caf\xc3\xa9'")["x"] == "café"


# ---------------------------------------------------------------------------------------------
# code generation


def test_to_code_writes_explicit_fields_only_and_round_trips():
    with patch_lazy_constructors():
        cfg = LazyProcessingConfig(
            group_by=GroupBy.SITE,
            well_filter_config=LazyWellFilterConfig(well_filter=3),
            tags=("a", "b"),
        )
    code = to_code(cfg)
    assert f"from {__name__} import" in code
    assert "group_by=GroupBy.SITE" in code
    assert "LazyWellFilterConfig(well_filter=3)" in code
    assert "workers" not in code and "mode" not in code
    rebuilt = exec_user_code(code)["config"]
    assert rebuilt == cfg
    assert explicitly_set_fields(rebuilt) == explicitly_set_fields(cfg)
    assert raw(rebuilt.well_filter_config, "mode") is None


def test_to_code_of_a_concrete_dataclass_writes_every_field():
    cfg = ProcessingConfig(workers=2)
    rebuilt = exec_user_code(to_code(cfg, name="cfg"))["cfg"]
    assert rebuilt == cfg
    assert type(rebuilt) is ProcessingConfig


def test_to_code_writes_paths_containers_and_special_floats():
    cfg = LazyMisc(
        path=Path("/data/x"),
        mapping={"a": [1, 2], "b": frozenset({3}), "c": set()},
        items=(1,),
        number=float("inf"),
    )
    code = to_code(cfg)
    assert "from pathlib import Path" in code
    rebuilt = exec_user_code(code)["config"]
    assert rebuilt == cfg


def test_to_code_names_a_value_it_cannot_write():
    cfg = LazyProcessingConfig(tags=(object(),))
    with pytest.raises(TypeError, match=r"config\.tags\[0\]"):
        to_code(cfg)
    with pytest.raises(ValueError, match="identifier"):
        to_code(LazyProcessingConfig(), name="not valid")


def test_to_code_writes_an_unbound_twin_as_make_lazy_of_its_base():
    @dataclass(frozen=True)
    class _Unbound:  # importable name is patched in below
        value: int = 0

    module = sys.modules[__name__]
    _Unbound.__qualname__ = "_UnboundForToCode"
    module._UnboundForToCode = _Unbound
    try:
        twin = make_lazy(_Unbound)  # a twin nobody assigns to a module-level name
        code = to_code(twin(value=5))
        assert "make_lazy(_UnboundForToCode)(value=5)" in code
        rebuilt = exec_user_code(code)["config"]
        assert type(rebuilt) is twin and rebuilt == twin(value=5)
    finally:
        del module._UnboundForToCode


@given(
    group_by=st.none() | st.sampled_from(GroupBy),
    workers=st.none() | st.integers(-(2**40), 2**40),
    tags=st.none() | st.lists(st.text(max_size=8), max_size=3).map(tuple),
    well_filter=st.none() | st.integers(0, 1000),
    mode=st.none() | st.text(max_size=10),
    nested=st.booleans(),
)
def test_to_code_round_trip_keeps_exactly_what_was_set(
    group_by, workers, tags, well_filter, mode, nested
):
    with patch_lazy_constructors():
        inner = LazyWellFilterConfig(well_filter=well_filter, mode=mode) if nested else None
        cfg = LazyProcessingConfig(
            group_by=group_by, workers=workers, tags=tags, well_filter_config=inner
        )
    rebuilt = exec_user_code(to_code(cfg))["config"]
    assert rebuilt == cfg
    assert explicitly_set_fields(rebuilt) == explicitly_set_fields(cfg)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_an_optional_nested_config_stays_none_unless_inherited():
    @dataclasses.dataclass(frozen=True)
    class Inner:
        level: int = 1

    @dataclasses.dataclass(frozen=True)
    class Outer:
        inner: Inner | None = None

    lazy_outer = make_lazy(Outer)()
    assert lazy_outer.inner is None
    assert resolve(lazy_outer) == Outer(inner=None)
    with config_context(Outer(inner=Inner(level=5))):
        assert lazy_outer.inner == Inner(level=5)
        assert resolve(lazy_outer) == Outer(inner=Inner(level=5))
