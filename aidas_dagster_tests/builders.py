"""Builders shared across the test folders: the short sample series."""

from __future__ import annotations

import textwrap

SHORT_SERIES = textwrap.dedent(
    """\
    title: 짧은 첫사랑
    genre: 로맨틱 코미디
    total_episodes: 3
    episode_duration: 0.3
    main_theme: 첫사랑의 설렘과 성장
    target_audience: 20-30대 여성
    """
)
