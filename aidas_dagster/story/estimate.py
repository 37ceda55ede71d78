"""What an episode will cost with the current provider mix, before it is made.

Shown by `aidas estimate SERIES EPISODE`, recorded in the episode_script asset's metadata, reserved
in the budget when an episode run starts (so parallel runs cannot together pass a limit), and
compared with the ledger's actual spend in the final asset's metadata (the money side, the mix and
that comparison, is core/estimate.py). It is reckoned here, on the story floor, because what an
episode will say decides what it costs; the prices are the common floor's (core/prices.py).

From the episode's script when it exists (characters voiced per provider, seconds of lead video),
else from the series config (lines per minute of the episode's length, an even share of leads).
Prices are the providers' own estimates (the ones their ledger entries use); the script's writing
is estimated at its upper bound (every quality pass), so a reservation is rarely short.
"""

from __future__ import annotations

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.core.estimate import EpisodeEstimate, ProviderMix
from aidas_dagster.core.prices import (
    ELEVENLABS_USD_PER_CHARACTER as ELEVEN_PER_CHAR,
    GOOGLE_USD_PER_CHARACTER as GOOGLE_PER_CHAR,
    OPENAI_PRICES_PER_MILLION as PRICES_PER_MILLION,
    price_of,
)
from aidas_dagster.core.storage import read_json
from aidas_dagster.story.models import EpisodeScript, Roster
from aidas_dagster.story.quality import MAX_PASSES
from aidas_dagster.story.validation import expected_line_range

CHARS_PER_SECOND = 7.0  # Korean speech, ~6-7 syllables a second (the voice stage's pace)
CHARS_PER_LINE = 24.0  # a drama line's typical length, when no script is written yet
LEAD_SHARE = 0.5  # of the lines, when no script tells who speaks
PROMPT_TOKENS = 9000  # bible, outline, last summaries, states: the continuity context of one call
CHARS_PER_TOKEN = 2.0  # Korean and JSON


def _voice_provider(cast: str, mix: ProviderMix) -> str:
    """Who voices a character cast on `cast` with this mix (the failover chain's choice)."""
    if cast == "elevenlabs" and mix.elevenlabs:
        return "elevenlabs"
    if cast in ("elevenlabs", "google") and mix.google:
        return "google"
    return "offline"


def estimate_episode(
    config: SeriesConfig, episode: int, mix: ProviderMix, roster: Roster | None = None, script: EpisodeScript | None = None
) -> EpisodeEstimate:
    est = EpisodeEstimate(config.series_id, episode, "script" if script else "config", mix.describe())
    # (characters, is a lead, cast provider, importance) per spoken line
    if script is not None and roster is not None:
        people = roster.by_id()
        spoken = [
            (len(line.text), people[line.speaker].importance, people[line.speaker].voice.provider)
            for _scene, line in script.lines()
            if line.speaker in people
        ]
    else:
        _low, high = expected_line_range(config)
        n = max(1, int(high * 0.85))
        lead_lines = int(round(n * LEAD_SHARE))
        spoken = [(int(CHARS_PER_LINE), "main", "elevenlabs")] * lead_lines
        spoken += [(int(CHARS_PER_LINE), "supporting", "google")] * (n - lead_lines)
    total_chars = sum(c for c, _i, _p in spoken)

    if mix.openai_model:
        (per_in, per_out), _known = price_of(mix.openai_model, PRICES_PER_MILLION)
        _low, high = expected_line_range(config)
        out_tokens = 80 * high + 1500  # the engine's own allowance for the longest script
        prompt = PROMPT_TOKENS + int(total_chars / CHARS_PER_TOKEN)
        calls = MAX_PASSES + 1  # every quality pass, and the summary of the episode's state
        est.usd["openai"] = calls * (prompt * per_in + out_tokens * per_out) / 1_000_000
        est.notes["openai"] = f"{mix.openai_model}: up to {calls} calls of ~{prompt} in + {out_tokens} out tokens"

    voiced: dict[str, int] = {}
    for chars, _importance, cast in spoken:
        who = _voice_provider(cast, mix)
        voiced[who] = voiced.get(who, 0) + chars
    if voiced.get("elevenlabs"):
        price = ELEVEN_PER_CHAR / 2 if mix.elevenlabs_economy else ELEVEN_PER_CHAR
        est.usd["elevenlabs"] = voiced["elevenlabs"] * price
        est.notes["elevenlabs"] = f"{voiced['elevenlabs']} characters"
    if voiced.get("google"):
        est.usd["google"] = voiced["google"] * GOOGLE_PER_CHAR
        est.notes["google"] = f"{voiced['google']} characters"

    if mix.heygen_price_per_minute is not None:
        tiers = {"main", "major_supporting"} if mix.heygen_include_supporting else {"main"}
        seconds = sum(chars / CHARS_PER_SECOND + 1 for chars, importance, _c in spoken if importance in tiers)
        est.usd["heygen"] = seconds / 60.0 * mix.heygen_price_per_minute
        est.notes["heygen"] = f"~{seconds:.0f} s of avatar video at ${mix.heygen_price_per_minute:.2f}/min"
    return est


def estimate_for(studio, writers_room, voice_booth, avatar_studio, series_id: str, episode: int) -> EpisodeEstimate:
    """The estimate of one episode of a registered series with the configured providers: from its
    script when written, else from its config (the roster, when cast, decides who speaks)."""
    config = studio.series_config(series_id)
    storage = studio.storage
    roster = script = None
    if storage.roster_path(series_id).exists():
        roster = Roster.model_validate(read_json(storage.roster_path(series_id)))
    if roster is not None and storage.script_path(series_id, episode).exists():
        script = EpisodeScript.model_validate(read_json(storage.script_path(series_id, episode)))
    mix = ProviderMix.from_resources(writers_room, voice_booth, avatar_studio)
    if mix.elevenlabs and studio.budget.mode("elevenlabs") == "economy":
        mix = ProviderMix(**{**mix.__dict__, "elevenlabs_economy": True})
    return estimate_episode(config, episode, mix, roster, script)


