"""A kill during the picture stages (avatar clips, the final cut's segments and its mix/mux) resumes
cleanly.

See kill_resume.py for what each case proves. Each case starts from the storage the pipeline left
after the stages before the killed one (made once for the module), as a kill there would find it.
"""

from __future__ import annotations

import pytest

from aidas_dagster_tests.operations.kill_resume import STAGES, StagedStorage, kill_and_resume, staged_storage

CASES = [
    pytest.param("avatar_clips", id="avatar_clips"),
    pytest.param("final_cut", id="final_cut"),
    pytest.param("final_cut-mux", id="final_cut-mux"),
]


staged = staged_storage(last="avatar_clips")


@pytest.mark.parametrize("case", CASES)
def test_a_kill_during_a_stage_resumes_reusing_finished_work(staged: StagedStorage, case: str):
    stage = case.split("-")[0]
    root = staged.start_after(STAGES[STAGES.index(stage) - 1])
    kill_and_resume(root, case)
