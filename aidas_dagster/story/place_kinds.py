"""The kinds of place a location can be; story data names one per location, the picture stage
draws each (picture/places/).

Story owns the list because the bible's locations are validated against it; the picture stage,
a floor above, reads it to pick a drawer.
"""

from __future__ import annotations

BACKDROP_KINDS: tuple[str, ...] = (
    # everyday places
    "cafe", "office", "meeting_room", "home", "park", "riverside", "street", "alley", "bus_stop",
    "subway", "rooftop", "car", "parking_lot",
    # medicine and science
    "hospital", "operating_room", "lab",
    # school
    "school", "lecture_hall", "library", "dormitory",
    # police and law
    "police", "interrogation_room", "courtroom", "prison",
    # food and trade
    "restaurant", "kitchen", "bar", "market", "shop",
    # entertainment and media
    "stage", "broadcast_studio", "practice_room", "newsroom",
    # sports
    "gym", "stadium", "locker_room",
    # heritage (사극)
    "palace_hall", "palace_garden", "hanok",
    # creative work
    "art_studio", "film_set", "gallery", "workshop",
    # travel and service
    "hotel_lobby", "hotel_room", "airport", "airplane_cabin",
    # nature and the uncanny
    "shrine", "forest", "beach", "mountain", "village",
)  # fmt: skip
