"""The original's row order: a Windows (NTFS) os.walk, reproduced on every platform."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ser_utils.corpora import load_msp_improv, original_order, windows_walk, windows_walk_key
from ser_utils.corpora.walk_order import ntfs_name_key
from tests.helpers import write_msp_tree


def _touch(root: Path, *relative: str) -> None:
    for name in relative:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")


def test_windows_walk_lists_files_first_then_sub_folders_names_compared_upper_cased(tmp_path):
    # Name order (case-sensitive, files and folders mixed) and walk order differ at every level.
    _touch(
        tmp_path,
        "b/z.wav",
        "b/A.wav",
        "B_x/y.wav",
        "a/c/d.wav",
        "a/Z.wav",
        "root.wav",
        "Top.wav",
        "a/C.wav",
        "read_x.wav",
        "ready_x.wav",
    )
    walked = [p.relative_to(tmp_path).as_posix() for p in windows_walk(tmp_path)]
    assert walked == [
        "ready_x.wav",
        "read_x.wav",
        "root.wav",
        "Top.wav",  # files of the root first; '_' > 'Y' upper-cased
        "a/C.wav",
        "a/Z.wav",
        "a/c/d.wav",  # a's files before its sub-folder c
        "b/A.wav",
        "b/z.wav",  # 'b' < 'B_X' upper-cased
        "B_x/y.wav",
    ]
    assert walked != sorted(walked)  # a plain sort of the names gives another order
    # The key sorts any list of paths into the same order, absolute or relative.
    shuffled = sorted(walked, reverse=True)
    assert sorted(shuffled, key=windows_walk_key) == walked
    absolute = [str(tmp_path / p) for p in shuffled]
    assert sorted(absolute, key=windows_walk_key) == [str(tmp_path / p) for p in walked]


def test_ntfs_name_key_maps_one_character_to_one():
    assert ntfs_name_key("straße") == "STRAßE"  # str.upper would give STRASSE
    assert ntfs_name_key("Oaf_Fear") == ntfs_name_key("OAF_fear")


def test_original_order_sorts_a_frame_by_its_paths():
    frame = pd.DataFrame({"path": ["s/b/x.wav", "s/A.wav", "s/a/y.wav"], "value": [1, 2, 3]})
    assert original_order(frame)["value"].tolist() == [2, 3, 1]


def test_msp_improv_rows_come_session_then_sentence_then_type_then_file(tmp_path):
    # Session folder -> sentence folder -> type folder -> file; a sort by name puts sentence first.
    session1 = [
        "MSP-IMPROV-S02H-F01-R-FF01",
        "MSP-IMPROV-S01A-F01-T-FF01",
        "MSP-IMPROV-S01A-M01-R-MF01",
        "MSP-IMPROV-S01A-F01-R-FF01",
    ]
    session2 = [
        "MSP-IMPROV-S01A-M02-T-MM01",
        "MSP-IMPROV-S01A-F02-R-FF01",
        "MSP-IMPROV-S02H-M02-R-MF01",
    ]
    write_msp_tree(tmp_path, dict.fromkeys(session1, "N"), nest="session1", label_file=None)
    write_msp_tree(
        tmp_path,
        dict.fromkeys(session2, "A"),
        nest="session2",
        label_file="Evaluation.txt",
        extra_labels=dict.fromkeys(session1, "N"),
    )
    manifest = load_msp_improv(tmp_path)
    assert manifest["utterance_id"].tolist() == [
        "MSP-IMPROV-S01A-F01-R-FF01",
        "MSP-IMPROV-S01A-M01-R-MF01",  # session1/S01A/R/
        "MSP-IMPROV-S01A-F01-T-FF01",  # session1/S01A/T/
        "MSP-IMPROV-S02H-F01-R-FF01",  # session1/S02H/R/
        "MSP-IMPROV-S01A-F02-R-FF01",  # session2/S01A/R/
        "MSP-IMPROV-S01A-M02-T-MM01",  # session2/S01A/T/
        "MSP-IMPROV-S02H-M02-R-MF01",  # session2/S02H/R/
    ]
    assert manifest["utterance_id"].tolist() != sorted(manifest["utterance_id"])
