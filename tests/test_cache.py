"""The discovery cache: fingerprint, atomic file, corruption, and what the loader does with it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from plugin_packages import FILTERS_V1, SINGLE, build_wheels, install_target, on_sys_path, pip

from openhcs_plugins import validation as validation_module
from openhcs_plugins.config import load_settings
from openhcs_plugins.loader import load_plugins
from openhcs_plugins.registry import FunctionRegistry
from openhcs_plugins.sources import cache

NUMPY_FUNCTION = """\
from openhcs_plugins.decorators import numpy


@numpy
def {name}(image, gain: float = 2.0):
    \"\"\"Scale.\"\"\"
    return image * gain
"""


# -- the fingerprint -------------------------------------------------------------------------------


def test_fingerprint_changes_when_a_distribution_is_added_or_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    before = cache.environment_fingerprint()
    info = tmp_path / "lab-1.0.dist-info"
    info.mkdir()
    added = cache.environment_fingerprint()
    info.rmdir()
    assert added != before
    assert cache.environment_fingerprint() == before


def test_fingerprint_changes_when_a_pth_file_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    before = cache.environment_fingerprint()
    (tmp_path / "__editable__.lab-1.0.pth").write_text("/src/lab\n")
    assert cache.environment_fingerprint() != before


def test_fingerprint_ignores_unrelated_files_in_path_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sys.path[0] is often a script's folder or the current directory, which change all the time.
    monkeypatch.syspath_prepend(str(tmp_path))
    before = cache.environment_fingerprint()
    (tmp_path / "results.csv").write_text("1,2\n")
    assert cache.environment_fingerprint() == before


def test_fingerprint_depends_on_sys_path_and_extra_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = cache.environment_fingerprint(["validator-1"])
    assert cache.environment_fingerprint(["validator-2"]) != before
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cache.environment_fingerprint(["validator-1"]) != before


# -- the file ---------------------------------------------------------------------------------


def test_state_round_trips_through_the_file(tmp_path: Path) -> None:
    state = cache.CacheState(
        validator="v", fingerprint="f", entry_points=[{"a": 1}], folder={"/x.py": {"sha256": "s"}}
    )
    path = tmp_path / "c.json"
    assert cache.write_cache(state, path)
    assert cache.read_cache(path) == state
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]  # no temporary file left


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"[]",
        json.dumps({"format": 999}).encode(),
        json.dumps(
            {
                "format": cache.CACHE_FORMAT,
                "validator": "v",
                "fingerprint": "f",
                "entry_points": [1, 2],
                "entry_point_problems": [],
                "folder": {},
            }
        ).encode(),
        json.dumps({"format": cache.CACHE_FORMAT, "validator": 3}).encode(),
        b"\xff\xfe garbage",
    ],
)
def test_corrupt_or_foreign_cache_files_are_not_read(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(content)
    assert cache.read_cache(path) is None


def test_unwritable_cache_location_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    assert cache.write_cache(cache.CacheState(), blocker / "c.json") is False


def test_cache_directory_follows_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path / "mine"))
    assert cache.cache_file().parent == tmp_path / "mine"
    assert cache.cache_file().name.startswith("discovery-")


def test_cache_info_reports_missing_corrupt_fresh_stale_and_disabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path))
    assert cache.cache_info().state == "missing"
    cache.cache_file().write_text("{corrupt")
    assert cache.cache_info().state == "corrupt"
    fingerprint = cache.environment_fingerprint(["v1"])
    cache.write_cache(cache.CacheState(validator="v1", fingerprint=fingerprint))
    assert cache.cache_info().state == "fresh"
    assert cache.cache_info(validator="v2").state == "stale"
    cache.write_cache(cache.CacheState(validator="v1", fingerprint="old"))
    info = cache.cache_info()
    assert info.state == "stale" and info.exists and info.size > 0
    monkeypatch.setenv(cache.NO_CACHE_ENV, "1")
    assert cache.cache_info().state == "disabled"


def test_clear_cache_deletes_every_environment_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path))
    (tmp_path / "discovery-aaaa.json").write_text("{}")
    (tmp_path / "discovery-bbbb.json").write_text("{}")
    (tmp_path / "unrelated.txt").write_text("keep")
    removed = cache.clear_cache()
    assert sorted(p.name for p in removed) == ["discovery-aaaa.json", "discovery-bbbb.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["unrelated.txt"]
    assert cache.clear_cache() == []


# -- the loader with the cache ------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    return build_wheels([FILTERS_V1, SINGLE], tmp_path_factory.mktemp("cache-wheels"))


@pytest.fixture
def site(
    wheels: dict[tuple[str, str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    with on_sys_path(install_target(wheels.values(), tmp_path / "site"), monkeypatch) as target:
        yield target


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Filenames passed to the real ``validate_code`` (a counting wrapper, not a stand-in)."""
    calls: list[str] = []
    real = validation_module.validate_code

    def counting(code, **kwargs):
        calls.append(kwargs.get("filename", ""))
        return real(code, **kwargs)

    monkeypatch.setattr(validation_module, "validate_code", counting)
    return calls


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "functions"
    path.mkdir()
    for name in ("alpha", "beta"):
        (path / f"{name}.py").write_text(NUMPY_FUNCTION.format(name=name), encoding="utf-8")
    return path


def _load(folder: Path, **kwargs):
    registry = FunctionRegistry()
    report = load_plugins(registry=registry, folder=folder, **kwargs)
    return registry, report


def test_warm_load_parses_nothing_and_registers_the_same_entries(
    site: Path, folder: Path, counted: list[str]
) -> None:
    cold_registry, cold = _load(folder)
    assert cold.cache == "cold"
    assert {"oplab_filters:double", "openhcs:alpha", "openhcs:beta"} <= set(cold.registered)
    assert len(counted) >= 4  # two packages, two files
    counted.clear()
    warm_registry, warm = _load(folder)
    assert warm.cache == "warm"
    assert counted == []
    assert sorted(warm.registered) == sorted(cold.registered)
    assert [i.to_dict() for i in warm_registry.infos()] == [
        i.to_dict() for i in cold_registry.infos()
    ]


def test_editing_one_folder_file_revalidates_only_that_file(
    site: Path, folder: Path, counted: list[str]
) -> None:
    _load(folder)
    (folder / "beta.py").write_text(
        NUMPY_FUNCTION.format(name="beta").replace("2.0", "5.0"), encoding="utf-8"
    )
    counted.clear()
    registry, report = _load(folder)
    assert report.cache == "partial"
    assert counted == [str(folder / "beta.py")]
    assert registry.info("openhcs:beta").parameters[1].default == "5.0"


def test_installing_a_package_invalidates_the_entry_point_index(
    site: Path, folder: Path, wheels: dict[tuple[str, str], Path], counted: list[str]
) -> None:
    shutil.rmtree(site / "oplab_single-1.0.0.dist-info")
    registry, _ = _load(folder)
    assert "oplab_single:threshold" not in registry
    pip(
        "install",
        "--no-deps",
        "--target",
        str(site),
        "--upgrade",
        str(wheels[SINGLE.name, "1.0.0"]),
    )
    registry, report = _load(folder)
    assert "oplab_single:threshold" in registry
    assert report.cache == "partial"  # packages re-read, folder files from the cache


def test_removing_a_package_removes_its_functions_despite_the_cache(
    site: Path, folder: Path
) -> None:
    registry, _ = _load(folder)
    assert "oplab_filters:double" in registry
    shutil.rmtree(site / "oplab_filters-0.1.0.dist-info")
    registry, _ = _load(folder)
    assert "oplab_filters:double" not in registry


def test_editing_an_installed_module_is_noticed_without_reinstalling(
    site: Path, folder: Path
) -> None:
    _load(folder)
    module = site / "oplab_single.py"
    module.write_text(module.read_text().replace("level: float = 0.5", "level: float = 0.7"))
    registry, report = _load(folder)
    assert report.cache == "partial"
    assert registry.info("oplab_single:threshold").parameters[1].default == "0.7"


def test_corrupt_cache_is_rebuilt_not_trusted(site: Path, folder: Path, counted: list[str]) -> None:
    _, first = _load(folder)
    path = cache.cache_file(load_settings().cache_path())
    data = json.loads(path.read_text())
    data["entry_points"][0]["functions"][0][5] = "garbage"  # the parameter rows
    path.write_text(json.dumps(data))
    counted.clear()
    _, report = _load(folder)
    # The malformed package index is rebuilt; the intact folder part is still used.
    assert report.cache == "partial"
    assert sorted(report.registered) == sorted(first.registered)
    assert any(name.endswith("filters.py") for name in counted)
    assert not any(name.startswith(str(folder)) for name in counted)
    assert cache.read_cache(path) is not None
    path.write_bytes(b"\x00\x01 truncated")
    _, report = _load(folder)
    assert report.cache == "cold" and sorted(report.registered) == sorted(first.registered)


def test_refresh_and_the_environment_variable_bypass_the_cache(
    site: Path, folder: Path, counted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _load(folder)
    counted.clear()
    _, report = _load(folder, refresh=True)
    assert report.cache == "cold" and len(counted) >= 4
    counted.clear()
    monkeypatch.setenv(cache.NO_CACHE_ENV, "1")
    path = cache.cache_file(load_settings().cache_path())
    path.unlink()
    _, report = _load(folder)
    assert report.cache == "off" and len(counted) >= 4
    assert not path.exists()


def test_other_trust_settings_do_not_use_the_cache(
    site: Path, folder: Path, counted: list[str]
) -> None:
    _load(folder)
    counted.clear()
    _, report = _load(folder, settings=load_settings(trust__folder="strict"))
    assert report.cache == "cold"
    assert str(folder / "alpha.py") in counted


# -- folder files listed by their stamp ---------------------------------------------------------


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Folder files whose text was read (a counting wrapper around the real reader)."""
    from openhcs_plugins.sources import folder as folder_module

    calls: list[str] = []
    real = folder_module.read_source

    def counting(path):
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(folder_module, "read_source", counting)
    return calls


def _age(folder: Path, monkeypatch: pytest.MonkeyPatch, window_s: float = 0.05) -> None:
    """Make the racy window short and wait it out, so the files' stamps are trusted."""
    import time

    monkeypatch.setattr(cache, "_RACY_NS", int(window_s * 1e9))
    time.sleep(window_s * 2)


def test_a_warm_listing_does_not_read_files_whose_stamp_is_unchanged(
    folder: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _age(folder, monkeypatch)
    _, cold = _load(folder, include_entry_points=False)
    assert sorted(reads) == [str(folder / "alpha.py"), str(folder / "beta.py")]
    reads.clear()
    registry, warm = _load(folder, include_entry_points=False)
    assert warm.cache == "warm" and reads == []
    assert sorted(warm.registered) == sorted(cold.registered)
    # The text is read (and checked against the validated sha256) when the function first runs.
    out = registry.call("openhcs:alpha", np.ones((1, 2, 2), dtype=np.float32))
    assert reads == [str(folder / "alpha.py")]
    assert float(out.max()) == 2.0


def test_a_file_modified_within_the_racy_window_is_read_every_time(
    folder: Path, reads: list[str]
) -> None:
    # Just written: within the default two-second window, so no stamp is trusted yet.
    _load(folder, include_entry_points=False)
    reads.clear()
    _, report = _load(folder, include_entry_points=False)
    assert sorted(reads) == [str(folder / "alpha.py"), str(folder / "beta.py")]
    assert report.cache == "warm"  # read and hashed, but not validated again


def test_a_same_size_rewrite_with_the_old_mtime_is_noticed(
    folder: Path, reads: list[str], counted: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    _age(folder, monkeypatch)
    _load(folder, include_entry_points=False)
    beta = folder / "beta.py"
    before = beta.stat()
    text = beta.read_text(encoding="utf-8")
    beta.write_text(text.replace("2.0", "7.0"), encoding="utf-8")  # same size
    os.utime(beta, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back
    assert beta.stat().st_size == before.st_size
    _age(folder, monkeypatch)
    reads.clear()
    counted.clear()
    registry, _ = _load(folder, include_entry_points=False)
    assert reads == [str(beta)] and counted == [str(beta)]  # the change time gave it away
    assert registry.info("openhcs:beta").parameters[1].default == "7.0"


def test_a_file_changed_after_a_stamp_listing_is_not_run_unvalidated(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openhcs_plugins.loading.register import SourceChangedError
    from openhcs_plugins.registry import FunctionLoadError

    _age(folder, monkeypatch)
    _load(folder, include_entry_points=False)
    registry, _ = _load(folder, include_entry_points=False)  # alpha listed by its stamp
    alpha = folder / "alpha.py"
    alpha.write_text(
        NUMPY_FUNCTION.format(name="alpha").replace("image * gain", "image * 0"), encoding="utf-8"
    )
    with pytest.raises(FunctionLoadError) as info:
        registry.call("openhcs:alpha", np.ones((1, 2, 2), dtype=np.float32))
    message = str(info.value)
    assert str(alpha) in message and "changed after it was listed" in message
    assert "openhcs-plugins list" in message
    assert isinstance(info.value.__cause__, SourceChangedError)
    # Listed again, the new text is validated and runs.
    registry, _ = _load(folder, include_entry_points=False)
    out = registry.call("openhcs:alpha", np.ones((1, 2, 2), dtype=np.float32))
    assert float(out.max()) == 0.0


def test_another_folders_records_survive_a_listing_with_their_parameters(
    tmp_path: Path, counted: list[str]
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, name, gain in ((one, "first", "3.5"), (two, "second", "4.5")):
        folder.mkdir()
        (folder / f"{name}.py").write_text(
            NUMPY_FUNCTION.format(name=name).replace("2.0", gain), encoding="utf-8"
        )
    _load(one, include_entry_points=False)
    _load(two, include_entry_points=False)  # rewrites the file: one's records are carried over
    counted.clear()
    registry, report = _load(one, include_entry_points=False)
    assert report.cache == "warm" and counted == []
    assert registry.info("openhcs:first").parameters[1].render() == "gain: float = 3.5"


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data.update(parameters="garbage"),
        lambda data: data.update(parameters=[["image", "POSITIONAL_OR_KEYWORD", 3, None]]),
        lambda data: next(iter(data["folder"].values()))["functions"][0].__setitem__(5, [99]),
    ],
    ids=["table-not-a-list", "row-of-wrong-types", "position-out-of-range"],
)
def test_a_damaged_parameter_table_is_rebuilt_not_trusted(
    folder: Path, counted: list[str], damage
) -> None:
    cold_registry, _ = _load(folder, include_entry_points=False)
    path = cache.cache_file(load_settings().cache_path())
    data = json.loads(path.read_text())
    damage(data)
    path.write_text(json.dumps(data))
    counted.clear()
    registry, _ = _load(folder, include_entry_points=False)
    assert counted  # something was validated again
    assert [i.to_dict() for i in registry.infos()] == [i.to_dict() for i in cold_registry.infos()]


def test_a_function_with_artifacts_and_other_decorators_round_trips() -> None:
    from openhcs_plugins.sources.candidate import ParameterInfo, StaticFunction

    plain = StaticFunction("f", 3, "numpy", "numpy", "FLEXIBLE", (), "doc")
    rich = StaticFunction(
        "g",
        9,
        "torch",
        "numpy",
        "PURE_2D",
        (ParameterInfo("image", "POSITIONAL_OR_KEYWORD", None, None),),
        "",
        True,
        (("rows", '{"outputs": [], "primary": 0}'), ("summary", None)),
        ("positions",),
        ("runtime_image_execution_mode",),
    )
    table = cache.ParameterTable()
    rows = [cache.function_to_dict(f, table) for f in (plain, rich)]
    assert len(rows[0]) == 8 and len(rows[1]) == 9  # a plain function's row stays short
    data = json.loads(json.dumps({"p": table.rows, "f": rows}))
    parameters = cache.ParameterTable.read(data["p"])
    assert [cache.function_from_dict(row, parameters) for row in data["f"]] == [plain, rich]
    with pytest.raises(TypeError):
        cache.function_from_dict(
            [*data["f"][1][:8], {"o": [["x", 3]], "i": [], "d": []}], parameters
        )
