"""Sources: entry points read from real installed wheels (pip --target), folder files."""

from __future__ import annotations

import sys
from pathlib import Path

import importlib_metadata
import pytest
from plugin_packages import (
    BROKEN,
    EDITABLE,
    FACTORY,
    FILTERS_V1,
    SINGLE,
    build_wheels,
    install_target,
    on_sys_path,
)

from openhcs_plugins.sources import (
    ENTRY_POINT_GROUP,
    EntryPointSource,
    FolderSource,
    Problem,
    install_origin,
    locate_module,
    namespace_error,
)
from openhcs_plugins.sources.candidate import OPENHCS_NAMESPACE, Candidate, SourceKind, TrustLevel


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with real wheels installed by pip (``--target``)."""
    root = tmp_path_factory.mktemp("sources")
    wheels = build_wheels([FILTERS_V1, SINGLE, FACTORY, BROKEN], root)
    return install_target(wheels.values(), root / "site")


@pytest.fixture
def on_path(site: Path, monkeypatch: pytest.MonkeyPatch):
    with on_sys_path(site, monkeypatch):
        yield site


def _items(distribution: str) -> list[Candidate | Problem]:
    return [item for item in EntryPointSource().candidates() if item.distribution == distribution]


# -- namespaces --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lab_filters", "LabFilters2", "_private"])
def test_identifier_namespaces_are_accepted(name: str) -> None:
    assert namespace_error(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("openhcs", "reserved"),
        ("OpenHCS", "reserved"),
        ("bad-name", "not a valid namespace"),
        ("2filters", "not a valid namespace"),
        ("class", "not a valid namespace"),
        ("ｏｐｅｎｈｃｓ", "not a valid namespace"),  # fullwidth letters normalise to openhcs
        ("", "not a valid namespace"),
    ],
)
def test_invalid_or_reserved_namespaces_are_refused(name: str, reason: str) -> None:
    error = namespace_error(name)
    assert error is not None and reason in error


# -- entry points --------------------------------------------------------------------------------


def test_module_entry_point_yields_its_source_without_importing_the_package(on_path: Path) -> None:
    (candidate,) = _items("oplab-filters")
    assert isinstance(candidate, Candidate)
    assert candidate.source is SourceKind.ENTRY_POINT
    assert candidate.namespace == "oplab_filters"
    assert candidate.trust is TrustLevel.TRUSTED
    assert candidate.module == "oplab_filters.filters" and candidate.attribute is None
    assert candidate.path == on_path / "oplab_filters" / "filters.py"
    assert candidate.text == candidate.path.read_text(encoding="utf-8")
    assert candidate.version == "0.1.0"
    assert candidate.entry_point == "oplab_filters = oplab_filters.filters"
    assert candidate.origin.startswith("file:file://") and candidate.origin.endswith(".whl")
    # The package __init__ (which imports torch when it can) did not run.
    assert "oplab_filters" not in sys.modules


def test_module_attribute_entry_point_names_the_attribute(on_path: Path) -> None:
    (candidate,) = _items("oplab-single")
    assert isinstance(candidate, Candidate)
    assert (candidate.module, candidate.attribute) == ("oplab_single", "threshold")
    assert candidate.path == on_path / "oplab_single.py"


def test_bad_entry_points_become_problems_naming_distribution_and_entry_point(
    on_path: Path,
) -> None:
    items = _items("oplab-broken")
    problems = {p.entry_point: p for p in items if isinstance(p, Problem)}
    assert set(problems) == {
        "bad-name = oplab_broken.signature",
        "openhcs = oplab_broken.signature",
        "oplab_missing = oplab_broken.not_there",
    }
    missing = problems["oplab_missing = oplab_broken.not_there"]
    assert missing.kind == "module-not-found"
    assert (missing.distribution, missing.version) == ("oplab-broken", "0.3.0")
    assert "oplab_broken.not_there" in missing.message and "pip install" in missing.hint
    assert "reserved" in problems["openhcs = oplab_broken.signature"].message
    assert problems["bad-name = oplab_broken.signature"].kind == "invalid-namespace"
    # The other entry points of the same distribution still yield candidates.
    assert {c.namespace for c in items if isinstance(c, Candidate)} == {
        "oplab_raises",
        "oplab_syntax",
        "oplab_signature",
        "oplab_empty",
    }
    assert "oplab_broken" not in sys.modules


def test_install_origin_of_a_local_wheel_is_its_file_url(on_path: Path) -> None:
    dist = importlib_metadata.distribution("oplab-single")
    assert install_origin(dist) == f"file:{dist.origin.url}"


def _dist_info(root: Path, name: str, **files: str) -> importlib_metadata.Distribution:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    for filename, text in files.items():
        (info / filename.replace("_json", ".json").replace("_txt", ".txt")).write_text(text)
    return importlib_metadata.PathDistribution(info)


def test_install_origin_reads_editable_vcs_and_index_installs(tmp_path: Path) -> None:
    editable = _dist_info(
        tmp_path, "e", direct_url_json='{"url": "file:///src/e", "dir_info": {"editable": true}}'
    )
    vcs = _dist_info(
        tmp_path,
        "v",
        direct_url_json='{"url": "https://git.example/v.git", '
        '"vcs_info": {"vcs": "git", "commit_id": "abc123"}}',
    )
    index = _dist_info(tmp_path, "i")
    corrupt = _dist_info(tmp_path, "c", direct_url_json="{not json")
    assert install_origin(editable) == "editable:file:///src/e"
    assert install_origin(vcs) == "vcs:https://git.example/v.git@abc123"
    assert install_origin(index) == "index"
    assert install_origin(corrupt) == "index"


def test_module_not_in_record_is_found_through_the_path_finders_without_importing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An editable-style install: the source lives in a project dir put on sys.path (a .pth).
    project = EDITABLE.write(tmp_path) / "src"
    monkeypatch.syspath_prepend(str(project))
    dist = _dist_info(tmp_path / "site", "oplab-editable", RECORD="")
    found = locate_module(dist, "oplab_editable.filters")
    assert found == project / "oplab_editable" / "filters.py"
    assert "oplab_editable" not in sys.modules  # its __init__ raises if run


def test_editable_project_from_direct_url_is_found_when_not_on_the_path(tmp_path: Path) -> None:
    project = EDITABLE.write(tmp_path)
    dist = _dist_info(
        tmp_path / "site",
        "oplab-editable",
        RECORD="",
        direct_url_json=f'{{"url": "{project.as_uri()}", "dir_info": {{"editable": true}}}}',
    )
    assert locate_module(dist, "oplab_editable.filters") == (
        project / "src" / "oplab_editable" / "filters.py"
    )
    assert locate_module(dist, "oplab_editable.nothing") is None


def test_distribution_with_corrupt_metadata_is_a_problem_and_the_others_still_come(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A RECORD row with four columns makes importlib-metadata's ``files`` raise TypeError.
    site = tmp_path / "site"
    function = (
        "from openhcs_plugins.decorators import numpy\n@numpy\ndef f(image):\n    return image\n"
    )
    for name in ("oplab_corrupt", "oplab_sound"):
        _dist_info(
            site,
            name,
            entry_points_txt=f"[openhcs.functions]\n{name} = {name}_mod\n",
            RECORD=f"{name}_mod.py,sha256=x,10,extra\n" if name == "oplab_corrupt" else "",
        )
        (site / f"{name}_mod.py").write_text(function, encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    (corrupt,) = _items("oplab_corrupt")
    assert isinstance(corrupt, Problem) and corrupt.kind == "unreadable"
    assert (corrupt.distribution, corrupt.version) == ("oplab_corrupt", "1.0")
    assert corrupt.entry_point == "oplab_corrupt = oplab_corrupt_mod"
    assert "TypeError" in corrupt.message and "--force-reinstall" in corrupt.hint
    (sound,) = _items("oplab_sound")
    assert isinstance(sound, Candidate) and sound.path == site / "oplab_sound_mod.py"


def test_entry_point_group_is_openhcs_functions() -> None:
    assert ENTRY_POINT_GROUP == "openhcs.functions"


# -- folder --------------------------------------------------------------------------------------


def test_folder_yields_one_user_candidate_per_python_file_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text("x = 2\n", encoding="utf-8")
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not code")
    (tmp_path / ".a.py.1234.tmp").write_text("half-written")
    (tmp_path / "sub.py").mkdir()
    items = list(FolderSource(tmp_path).candidates())
    assert [c.path.name for c in items] == ["a.py", "b.py"]
    first = items[0]
    assert isinstance(first, Candidate)
    assert (first.source, first.namespace, first.trust) == (
        SourceKind.FOLDER,
        OPENHCS_NAMESPACE,
        TrustLevel.USER,
    )
    assert first.text == "x = 1\n"


def test_non_utf8_folder_file_is_a_problem_and_the_others_still_come(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b"# caf\xe9\nx = 1\n")
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    latin, ok = FolderSource(tmp_path, TrustLevel.STRICT).candidates()
    assert isinstance(latin, Problem) and latin.kind == "unreadable"
    assert latin.file == str(tmp_path / "latin.py") and "UTF-8" in latin.message
    assert isinstance(ok, Candidate) and ok.trust is TrustLevel.STRICT


def test_missing_folder_yields_nothing(tmp_path: Path) -> None:
    assert list(FolderSource(tmp_path / "absent").candidates()) == []


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbfx = 1\n")
    (candidate,) = FolderSource(tmp_path).candidates()
    assert isinstance(candidate, Candidate) and candidate.text == "x = 1\n"
