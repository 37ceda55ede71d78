"""What the paid providers charge, in one place on the common floor.

The providers enter these in the cost ledger (story/openai_engine.py, voice/elevenlabs.py,
voice/google_tts.py), and the episode estimate (story/estimate.py) reckons with the same numbers,
so an estimate and the ledger it is compared with never disagree on a price.
"""

from __future__ import annotations

# USD per 1M tokens (input, output), OpenAI list prices; the longest matching prefix wins.
OPENAI_PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
}
# A model we have no price for is estimated high rather than free, so budgets stay safe.
UNKNOWN_MODEL_PRICE = (2.50, 10.00)

# ElevenLabs: estimated USD per character (Creator-plan overage, ~$0.30 per 1,000 characters; flash/turbo half).
ELEVENLABS_USD_PER_CHARACTER = 0.30 / 1000
# Google TTS: estimated USD per character: WaveNet/Neural2 $16 per million (Standard is $4: the estimate errs high).
GOOGLE_USD_PER_CHARACTER = 16e-6


def price_of(model: str, prices: dict[str, tuple[float, float]]) -> tuple[tuple[float, float], bool]:
    """(USD per 1M input, output tokens) for a model, and whether the price is known."""
    for prefix in sorted(prices, key=len, reverse=True):
        if model == prefix or model.startswith(prefix + "-") or model.startswith(prefix + ":"):
            return prices[prefix], True
    return UNKNOWN_MODEL_PRICE, False
