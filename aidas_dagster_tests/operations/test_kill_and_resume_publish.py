"""A kill during the upload resumes cleanly and publishes the episode exactly once.

See kill_resume.py for what the case proves. It starts from the storage the pipeline left after the
final cut (made in process), as a kill during the upload would find it.
"""

from __future__ import annotations

import pytest

from aidas_dagster_tests.operations.kill_resume import StagedStorage, kill_and_resume, staged_storage

CASES = [pytest.param("youtube_video", id="youtube_video")]


staged = staged_storage(last="final_cut")


@pytest.mark.parametrize("case", CASES)
def test_a_kill_during_a_stage_resumes_reusing_finished_work(staged: StagedStorage, case: str):
    kill_and_resume(staged.start_after("final_cut"), case)
