"""A kill at any stage resumes cleanly: the early stages, from an empty storage.

See kill_resume.py for what each case proves. These cases start with nothing made, as a first
`aidas produce` does; the later stages' cases are in test_kill_and_resume_picture.py and
test_kill_and_resume_publish.py (separate files, so the two test workers share them out).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aidas_dagster_tests.operations.kill_resume import kill_and_resume, new_studio

CASES = [
    pytest.param("episode_script", id="episode_script"),
    pytest.param("audio_track", id="audio_track"),
]


@pytest.mark.parametrize("case", CASES)
def test_a_kill_during_a_stage_resumes_reusing_finished_work(tmp_path: Path, case: str):
    new_studio(tmp_path)
    kill_and_resume(tmp_path, case)
