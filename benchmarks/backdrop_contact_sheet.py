"""Contact sheet of the backdrop kinds: one picture per kind (and the generic fallback), labelled.

    .venv/bin/python benchmarks/backdrop_contact_sheet.py [--out backdrops.png] [--time 낮] [--finished]

Each cell is the kind's drawing of a sample Korean place name (what a setting's location would
say). `--finished` shows the backdrops as the cut uses them (graded, blurred, vignetted) instead
of the bare drawings; `--time` picks the time of day (아침/낮/저녁/밤). Prints how long a
backdrop takes to draw.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw  # noqa: E402

from aidas_dagster.picture import fonts  # noqa: E402
from aidas_dagster.story.place_kinds import BACKDROP_KINDS  # noqa: E402
from aidas_dagster.picture.backdrops import draw_backdrop, draw_place  # noqa: E402

# A place name per kind, as a setting library would write it.
SAMPLES = {
    "cafe": "성수동 카페", "office": "본사 사무실", "meeting_room": "12층 회의실", "home": "지우네 거실", "park": "동네 공원",
    "riverside": "한강 둔치", "street": "홍대 거리", "alley": "시장 뒷골목", "bus_stop": "버스 정류장", "subway": "지하철 승강장",
    "rooftop": "병원 옥상", "car": "택시 안", "parking_lot": "지하 주차장", "hospital": "응급실", "operating_room": "수술실",
    "lab": "국과수 연구실", "school": "3학년 2반 교실", "lecture_hall": "대학 강의실", "library": "학교 도서관",
    "dormitory": "기숙사 방", "police": "강력팀 사무실 경찰서", "interrogation_room": "취조실", "courtroom": "서울중앙지법 법정",
    "prison": "구치소", "restaurant": "한식당", "kitchen": "레스토랑 주방", "bar": "와인바", "market": "전통시장",
    "shop": "편의점", "stage": "콘서트 무대", "broadcast_studio": "방송국 스튜디오", "practice_room": "기획사 연습실",
    "newsroom": "방송국 보도국", "gym": "체육관", "stadium": "야구장", "locker_room": "라커룸", "palace_hall": "궁궐 편전",
    "palace_garden": "창덕궁 후원", "hanok": "대감댁 사랑채", "art_studio": "웹툰 작업실", "film_set": "드라마 세트장",
    "gallery": "미술관 전시실", "workshop": "목공소", "hotel_lobby": "호텔 로비", "hotel_room": "호텔 객실", "airport": "인천공항 출국장",
    "airplane_cabin": "기내", "shrine": "신당", "forest": "대나무숲", "beach": "해수욕장", "mountain": "산 정상", "village": "시골 마을",
}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("backdrops.png"))
    ap.add_argument("--time", default="낮", help="time of day of every backdrop")
    ap.add_argument("--finished", action="store_true", help="graded and blurred, as in the cut")
    ap.add_argument("--cell", type=int, default=384, help="cell width in pixels")
    ap.add_argument("--columns", type=int, default=6)
    args = ap.parse_args()

    kinds = [*BACKDROP_KINDS, "generic"]
    cw, ch, label_h = args.cell, round(args.cell * 9 / 16), 34
    cols = args.columns
    rows = -(-len(kinds) // cols)
    sheet = Image.new("RGB", (cols * cw, rows * (ch + label_h)), (24, 26, 32))
    pen = ImageDraw.Draw(sheet)
    font = fonts.font(20, True)
    started = time.perf_counter()
    for i, kind in enumerate(kinds):
        name = SAMPLES.get(kind, "어딘가")
        if args.finished:
            img = draw_backdrop(name, args.time, "", None if kind == "generic" else kind)
        else:
            img = draw_place(name, args.time, None if kind == "generic" else kind)
        x, y = (i % cols) * cw, (i // cols) * (ch + label_h)
        sheet.paste(img.resize((cw, ch), Image.LANCZOS), (x, y + label_h))
        pen.text((x + 8, y + label_h // 2), f"{kind} · {name}", font=font, fill=(236, 236, 240), anchor="lm")
    elapsed = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"{len(kinds)} backdrops in {elapsed:.1f} s ({1000 * elapsed / len(kinds):.0f} ms each) -> {args.out}")


if __name__ == "__main__":
    main()
