"""The voice stage's resource: the voice booth (ElevenLabs > Google TTS > local espeak-ng)."""

from __future__ import annotations

import os
from collections.abc import Iterable

import dagster as dg
from pydantic import Field

from aidas_dagster.resources import env_or_none
from aidas_dagster.story.models import Importance, VoiceCasting, VoiceProfile
from aidas_dagster.voice.casting import cast_voices
from aidas_dagster.voice.providers import build_speech_provider


class VoiceBooth(dg.ConfigurableResource):
    """Speech synthesis: ElevenLabs, Google TTS as backup, local espeak-ng when no keys are set."""
    elevenlabs_api_key: str | None = None
    elevenlabs_base_url: str | None = Field(default=None, description="host only, e.g. http://127.0.0.1:8080")
    elevenlabs_model: str = Field(default="eleven_multilingual_v2", description="economy mode uses eleven_flash_v2_5")
    google_credentials_file: str | None = None
    google_endpoint: str | None = Field(default=None, description="Google TTS API endpoint override")

    def cast_voices(self, characters: Iterable[tuple[str, VoiceProfile, Importance]]) -> dict[str, VoiceCasting]:
        """Voices for a whole roster (the story stage's VoiceCaster): the one place casting is asked for."""
        return cast_voices(characters)

    def provider(self, ledger=None, budget=None, series_id: str = "", episode: int = 0):
        """The failover chain of the configured providers (ElevenLabs > Google > offline)."""
        return build_speech_provider(
            elevenlabs_api_key=self.elevenlabs_api_key,
            elevenlabs_base_url=self.elevenlabs_base_url,
            elevenlabs_model=self.elevenlabs_model,
            google_credentials_file=self.google_credentials_file,
            google_endpoint=self.google_endpoint,
            ledger=ledger,
            budget=budget,
            series_id=series_id,
            episode=episode,
        )


def voice_resources() -> dict[str, dg.ConfigurableResource]:
    """The voice booth as the environment configures it (ELEVENLABS_*, GOOGLE_* variables)."""
    return {
        "voice_booth": VoiceBooth(
            elevenlabs_api_key=env_or_none("ELEVENLABS_API_KEY"),
            elevenlabs_base_url=os.environ.get("ELEVENLABS_BASE_URL") or None,
            google_credentials_file=os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or None,
            google_endpoint=os.environ.get("GOOGLE_TTS_ENDPOINT") or None,
        )
    }
