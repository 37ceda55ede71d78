"""Which writer failures end a step at once, and which a step retry may fix."""

from __future__ import annotations

import dagster as dg
import pytest

from aidas_dagster.core.ledger import BudgetExceeded
from aidas_dagster.core.paid_call import OutOfCredit, ProviderError
from aidas_dagster.story.assets import provider_failures
from aidas_dagster.story.openai_engine import StoryOutputError


@pytest.mark.parametrize(
    "error",
    [OutOfCredit("OpenAI account out of credit"), BudgetExceeded("daily budget reached"), ProviderError("401: key refused")],
)
def test_unfixable_failures_end_the_step_with_their_message(error):
    with pytest.raises(dg.Failure) as raised, provider_failures():
        raise error
    assert raised.value.allow_retries is False
    assert str(error) in raised.value.description


def test_unusable_model_output_is_left_to_the_step_retry_policy():
    with pytest.raises(StoryOutputError), provider_failures():
        raise StoryOutputError("scenes[2].lines: too short after 2 repairs")
