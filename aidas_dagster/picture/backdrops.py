"""Procedural 1920×1080 backdrops: one per scene location, drawn as its kind of place.

A scene's location has a kind (story.place_kinds.BACKDROP_KINDS): the bible says it
(`SeriesBible.locations`), or, for bibles without located places, the keyword rule
`location_kind` reads it from the name. Each kind has a drawer (places/): "성수동 카페" is drawn as a
cafe (windows, counter, tables, lamps), "서울중앙지법 법정" as a courtroom (the judges' bench). A
picture is seeded by the location's text so the same place always looks the same, graded by the
time of day (아침/낮/저녁/밤) and softly blurred so the characters in front stand out.

Where the image provider made art for a location (picture/image_art.py) that picture replaces the
drawing; the grading, blur and vignette are the same, so a generated place still turns to night.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter

from aidas_dagster.core.storage import file_digest
from aidas_dagster.picture.backdrop_draw import SKIES, TINTS, Scene, dark, gradient, rng, vary
from aidas_dagster.story.place_kinds import BACKDROP_KINDS
from aidas_dagster.picture.places import DRAWERS, UNGRADED

# Bump when any drawing changes: the version is part of every segment's fingerprint.
BACKDROP_VERSION = 4
W, H = 1920, 1080

# Korean (and a few English) words naming each kind of place. The head noun decides: the match
# that ends last in the name wins ("병원 옥상" is a rooftop, "옥상 위 병원" a hospital), and of two
# matches ending together the longer ("호텔 로비" over "로비", "고깃집" over "집").
KEYWORDS: dict[str, tuple[str, ...]] = {
    "cafe": ("카페", "커피숍", "커피", "찻집", "베이커리", "빵집", "디저트 가게", "다방"),
    "office": ("사무실", "회사", "오피스", "본사", "팀장실", "사장실", "대표실", "이사실", "집무실", "로펌", "법률사무소",
               "스타트업", "사무소", "회사 로비", "기획사", "소속사", "편집부", "감독실", "단장실", "회장실", "본부장실", "총지배인실", "과장실", "변호사실", "아나운서실", "민원실", "휴게실", "비서실", "국장실", "원장실", "편집팀", "사무국", "군청", "구청", "시청"),
    "meeting_room": ("회의실", "회의장", "컨퍼런스룸", "브리핑룸", "상황실", "이사회", "기자회견장", "회견장", "브리핑실"),
    "home": ("거실", "집", "아파트", "자취방", "원룸", "침실", "오피스텔", "방 안", "안방", "빌라", "현관", "옥탑방", "하숙집",
             "본가", "신혼집", "단칸방", "우리집", "친정", "처갓집", "큰집", "다락방", "주택", "단독 주택", "건넌방"),
    "park": ("공원", "산책로", "정원", "벤치", "호수", "놀이터", "캠퍼스 벤치", "꽃길", "잔디밭"),
    "riverside": ("한강", "강변", "강가", "둔치", "다리 밑", "다리 위", "한강 공원", "한강공원", "강둑", "천변", "개울가", "개울", "냇가", "시냇가"),
    "street": ("거리", "길", "횡단보도", "광장", "번화가", "역 앞", "앞", "사거리", "도로", "대로", "길거리", "밖", "평상"),
    "alley": ("골목", "뒷골목", "골목길", "뒷길", "막다른"),
    "bus_stop": ("정류장", "버스 정류장", "버스정류장", "정류소", "종점", "버스 종점"),
    "subway": ("지하철", "전철", "승강장", "플랫폼", "개찰구", "기차역", "지하철역", "전철역", "역 안", "대합실"),
    "rooftop": ("옥상", "루프탑", "루프톱"),
    "car": ("차 안", "차안", "자동차", "택시", "운전석", "조수석", "차 속", "차량", "승용차", "밴 안", "구급차", "원정 버스", "버스 안", "세단"),
    "parking_lot": ("주차장", "지하 주차장", "지하주차장"),
    "hospital": ("병원", "병실", "응급실", "진료실", "의원", "병동", "입원실", "중환자실", "간호사실", "외래", "응급센터",
                 "당직실", "의국", "대학병원", "보건지소", "보건소"),
    "operating_room": ("수술실", "수술방", "수술장"),
    "lab": ("연구실", "실험실", "연구소", "랩", "분석실", "감식반", "국과수", "부검실", "감식실"),
    "school": ("학교", "교실", "고등학교", "중학교", "초등학교", "교무실", "학원", "교정", "고교", "과방", "운동장", "분교"),
    "lecture_hall": ("강의실", "대강당", "강당", "대학", "캠퍼스", "세미나실", "강의동"),
    "library": ("도서관", "서재", "열람실", "서점", "책방", "독서실", "서고", "세책방"),
    "dormitory": ("기숙사", "고시원", "숙소", "합숙소", "생활관"),
    "police": ("경찰서", "파출소", "지구대", "수사팀", "수사본부", "강력팀", "형사과", "수사과", "강력반", "검찰청", "검사실"),
    "interrogation_room": ("취조실", "조사실", "심문실", "진술녹화실"),
    "courtroom": ("법정", "법원", "재판정", "공판", "재판장", "배심원석", "대법원", "지법"),
    "prison": ("교도소", "구치소", "감옥", "감방", "접견실", "유치장", "옥사", "감옥소"),
    "restaurant": ("레스토랑", "식당", "고깃집", "음식점", "한식당", "국밥집", "분식집", "중식당", "일식당", "횟집", "홀", "식사", "연회장", "치킨집", "중국집", "국숫집", "떡볶이집", "해장국집", "칼국수집", "족발집", "곱창집", "냉면집", "밥집", "백반집"),
    "kitchen": ("주방", "부엌", "키친", "조리실", "수라간", "주방 안"),
    "bar": ("술집", "이자카야", "호프", "와인바", "칵테일 바", "bar", "포장마차", "펍", "주점", "바 카운터", "선술집", "클럽", "호프집", "루프톱 바", "루프탑 바"),
    "market": ("시장", "재래시장", "전통시장", "노점", "야시장", "장터", "수산시장", "저잣거리", "시전", "오일장", "장날"),
    "shop": ("가게", "편의점", "상점", "마트", "슈퍼", "매장", "쇼룸", "꽃집", "옷가게", "부티크", "백화점", "약국", "세탁소",
             "문방구", "철물점", "미용실", "헤어숍", "네일숍", "이발소", "전당포", "방앗간", "pc방", "피시방", "매점", "숍", "샵"),
    "stage": ("무대", "공연장", "콘서트", "극장", "백스테이지", "무대 뒤", "오디션장", "쇼케이스", "콘서트홀", "공연", "팬사인회장", "팬사인회", "팬미팅", "사인회"),
    "broadcast_studio": ("방송국", "스튜디오", "녹화장", "방송 스튜디오", "라디오 부스", "녹음실", "부조정실", "생방송",
                         "방송실", "대기실"),
    "practice_room": ("연습실", "댄스 연습실", "보컬 연습실", "트레이닝룸", "안무실", "동아리방"),
    "newsroom": ("보도국", "뉴스룸", "편집국", "기자실", "신문사", "언론사", "취재부", "사회부", "보도본부"),
    "gym": ("체육관", "헬스장", "훈련장", "도장", "수영장", "코트", "피트니스", "훈련실", "체력단련실", "빙상장", "재활 센터", "재활센터", "야구 교실", "축구 교실", "태권도장", "권투장"),
    "stadium": ("경기장", "스타디움", "야구장", "축구장", "구장", "관중석", "그라운드", "벤치석", "더그아웃", "기자석"),
    "locker_room": ("라커룸", "락커룸", "탈의실", "선수 대기실", "선수실"),
    "palace_hall": ("궁궐", "대궐", "궁전", "편전", "어전", "정전", "침전", "교태전", "강녕전", "근정전", "경복궁", "창덕궁",
                    "덕수궁", "궁 안", "동궁", "중궁전", "내전", "왕궁", "어좌", "대비전", "동궁전", "세자궁"),
    "palace_garden": ("후원", "궁궐 정원", "궁 정원", "정자", "궁궐 연못", "연못가", "궁궐 뜰", "궁궐 후원", "비원", "활터"),
    "hanok": ("한옥", "사랑채", "안채", "대청", "마당", "기와집", "초가", "양반가", "대감댁", "대감 댁", "양반댁", "별채",
              "툇마루", "마루", "고택", "주막", "처소", "별당", "숙직청", "사랑방", "약방", "행랑채"),
    "art_studio": ("화실", "아틀리에", "작업실", "웹툰 작업실", "미술실", "화방"),
    "film_set": ("촬영장", "세트장", "촬영 현장", "영화 세트", "세트", "촬영소", "드라마 세트"),
    "gallery": ("갤러리", "미술관", "전시장", "전시실", "박물관", "전시회"),
    "workshop": ("공방", "정비소", "공장", "작업장", "인쇄소", "목공소", "창고", "수리점", "대장간", "인쇄 공장", "카센터", "양조장", "장비실"),
    "hotel_lobby": ("호텔", "로비", "호텔 로비", "프런트", "리셉션", "라운지", "컨시어지", "벨데스크"),
    "hotel_room": ("호텔 방", "객실", "스위트룸", "호텔 객실", "모텔", "펜션", "룸서비스", "스위트"),
    "airport": ("공항", "출국장", "입국장", "탑승구", "면세점", "활주로", "공항 라운지", "체크인 카운터"),
    "airplane_cabin": ("기내", "비행기", "비행기 안", "항공기", "조종실", "객실 통로", "기내 갤리", "일등석", "비즈니스석"),
    "shrine": ("신당", "굿당", "사당", "서낭당", "당집", "법당", "사찰", "암자", "신전", "제단", "절 마당", "무당집", "성황당", "산신각", "당산나무", "칠성각"),
    "forest": ("숲", "숲속", "산림", "대나무숲", "숲길", "수목원", "밀림"),
    "beach": ("바다", "바닷가", "해변", "해수욕장", "백사장", "해안", "갯벌", "방파제", "부두", "항구", "포구", "등대"),
    "mountain": ("산길", "산속", "산 정상", "등산로", "산장", "정상", "산 중턱", "계곡", "산기슭", "고개", "산골", "절벽"),
    "village": ("마을", "시골", "읍내", "동네", "농촌", "어촌", "산촌", "마을 회관", "고향", "시골집", "논밭", "들판", "과수원", "보건지소"),
}  # fmt: skip
for _kind in BACKDROP_KINDS:  # the kind's own English name works too ("courtroom", "palace hall")
    KEYWORDS[_kind] = KEYWORDS.get(_kind, ()) + (_kind, _kind.replace("_", " "))
assert set(KEYWORDS) == set(BACKDROP_KINDS) == set(DRAWERS), "every kind needs keywords and a drawer"


# A word no keyword names whole is still read by its ending: ~실 is a room of an office (회장실,
# 민원실), ~집 an eatery (치킨집, 국숫집) unless it is someone's home (지우네집), ~숍 a shop.
SUFFIXES: tuple[tuple[str, str], ...] = (("실", "office"), ("집", "restaurant"), ("숍", "shop"), ("샵", "shop"))
_HOME_ENDINGS = ("네집", "의집")
FALLBACK_WORDS: tuple[tuple[str, str], ...] = (("복도", "school"), ("방", "home"), ("현장", "street"))


def location_kind(location: str) -> str:
    """The kind of place a location's name says (its head noun), or "generic" when none matches."""
    text = location.lower()
    best: tuple[int, float, str] | None = None
    for kind, words in KEYWORDS.items():
        for word in words:
            at = text.rfind(word)
            if at >= 0:
                score = (at + len(word), float(len(word)), kind)
                if best is None or score[:2] > best[:2]:
                    best = score
    at = 0
    for token in text.split(" "):
        end = at + len(token)
        at = end + 1
        named = best is not None and best[0] == end and best[1] >= 2  # 연습실, 대회의실, 빵집: a keyword ends the word
        for suffix, kind in SUFFIXES:
            if len(token) > len(suffix) and token.endswith(suffix) and not token.endswith(_HOME_ENDINGS) and not named:
                score = (end, len(token) - 0.5, kind)
                if best is None or score[:2] > best[:2]:
                    best = score
    if best is None:  # words that only say where inside a place: the place itself is unnamed
        best = next(((0, 0.0, kind) for word, kind in FALLBACK_WORDS if word in text), None)
    return best[2] if best else "generic"


def resolve_kind(location: str, kinds: Mapping[str, str] | None = None) -> str:
    """The bible's kind of a location when it names a known one, else the keyword rule."""
    kind = (kinds or {}).get(location)
    return kind if kind in DRAWERS else location_kind(location)


def time_key(time_of_day: str) -> str:
    text = time_of_day.lower()
    for key, words in (
        ("night", ("밤", "새벽", "심야", "자정", "night", "midnight")),
        ("evening", ("저녁", "노을", "해질", "황혼", "석양", "evening", "sunset", "dusk")),
        ("morning", ("아침", "오전", "출근", "morning", "dawn")),
        ("day", ("낮", "오후", "점심", "정오", "day", "noon", "afternoon")),
    ):
        if any(w in text for w in words):
            return key
    return "day"


def _generic(s: Scene) -> None:
    """The fallback for a place no kind names: soft shapes in the time of day's colours."""
    r = s.rnd
    _top, bottom = SKIES[s.tod]
    base = vary(r.choice([(120, 110, 150), (90, 130, 150), (150, 120, 110)]), r, 30)
    s.img.paste(gradient(dark(base, 1.2), dark(bottom, 0.6)), (0, 0))
    for _ in range(28):
        x, y, rad = r.randint(0, W), r.randint(0, H), r.randint(30, 120)
        s.d.ellipse((x - rad, y - rad, x + rad, y + rad), fill=vary((230, 210, 180), r, 25))


def _vignette() -> Image.Image:
    small = Image.new("L", (192, 108))
    px = small.load()
    for y in range(108):
        for x in range(192):
            d = ((x - 96) / 96) ** 2 + ((y - 54) / 54) ** 2
            px[x, y] = max(0, min(255, round(255 * (1 - 0.38 * max(0.0, d - 0.25)))))
    return small.resize((W, H), Image.BILINEAR)


_VIGNETTE: Image.Image | None = None


def draw_place(location: str, time_of_day: str = "", kind: str | None = None) -> Image.Image:
    """The drawing of a place before grading, blur and vignette (the contact sheet shows these)."""
    kind = kind if kind in DRAWERS else location_kind(location)
    tod = time_key(time_of_day)
    scene = Scene(kind, tod, rng(str(BACKDROP_VERSION), kind, location))
    DRAWERS.get(kind, _generic)(scene)
    return scene.img


def finish(img: Image.Image, time_of_day: str, atmosphere: str, *, room_tint: bool) -> Image.Image:
    """Grade a place picture by the time of day (`room_tint`) and mood, soften it and frame it."""
    global _VIGNETTE
    if room_tint:
        tint = TINTS[time_key(time_of_day)]
        img = img.convert("RGB", (tint[0], 0, 0, 0, 0, tint[1], 0, 0, 0, 0, tint[2], 0))
    mood = atmosphere.lower()
    if any(w in mood for w in ("긴장", "불안", "어두", "tense", "dark", "슬픔", "sad")):
        img = img.convert("RGB", (0.9, 0.05, 0.05, 0, 0.04, 0.9, 0.06, 0, 0.05, 0.08, 1.0, 0))  # cooler, flatter
    elif any(w in mood for w in ("설렘", "로맨", "따뜻", "romantic", "warm", "행복", "happy")):
        img = img.convert("RGB", (1.05, 0, 0, 4, 0, 1.0, 0, 0, 0, 0, 0.97, 0))  # a touch warmer
    # Soft focus separates the backdrop from the sharp characters; the vignette frames them.
    img = img.filter(ImageFilter.GaussianBlur(2.2))
    if _VIGNETTE is None:
        _VIGNETTE = _vignette()
    return ImageChops.multiply(img, Image.merge("RGB", (_VIGNETTE,) * 3))


def draw_backdrop(location: str, time_of_day: str = "", atmosphere: str = "", kind: str | None = None) -> Image.Image:
    """The 1920×1080 RGB backdrop of a location at a time of day (deterministic). `kind` (the
    bible's) picks the drawer; without it the keyword rule reads the name."""
    kind = kind if kind in DRAWERS else location_kind(location)
    return finish(draw_place(location, time_of_day, kind), time_of_day, atmosphere, room_tint=kind not in UNGRADED)


def art_backdrop(art: Path, time_of_day: str = "", atmosphere: str = "") -> Image.Image:
    """A generated place picture as a backdrop: fitted to 1920×1080 and graded like a drawing
    (the art is made once per place in daylight, so evening and night come from the grade)."""
    with Image.open(art) as im:
        img = im.convert("RGB")
    if img.size != (W, H):
        scale = max(W / img.width, H / img.height)
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
        x0, y0 = (img.width - W) // 2, (img.height - H) // 2
        img = img.crop((x0, y0, x0 + W, y0 + H))
    return finish(img, time_of_day, atmosphere, room_tint=True)


class Backdrops:
    """Backdrops of one render, drawn once per (location, time of day, atmosphere) and kept while
    recently used (at most `keep` pictures: a 6 MB picture per location adds up).

    `kinds` maps location names to the bible's kinds; `art` maps location names to generated
    place pictures, which replace the drawing of that place."""

    def __init__(self, keep: int = 6, kinds: Mapping[str, str] | None = None, art: Mapping[str, Path] | None = None) -> None:
        self.keep = keep
        self.kinds = dict(kinds or {})
        self.art = {name: Path(p) for name, p in (art or {}).items()}
        self._digests: dict[str, str] = {}
        self._cache: OrderedDict[tuple[str, str, str], Image.Image] = OrderedDict()
        self._lock = threading.Lock()

    def kind_of(self, location: str) -> str:
        return resolve_kind(location, self.kinds)

    def ident(self, location: str, time_of_day: str = "", atmosphere: str = "") -> list:
        """Everything that decides a backdrop's look, for segment fingerprints."""
        art = self.art.get(location)
        if art is not None and location not in self._digests:
            self._digests[location] = file_digest(art)
        return [BACKDROP_VERSION, self.kind_of(location), self._digests.get(location) if art else None, location, time_of_day, atmosphere]

    def _get(self, key: tuple[str, str, str], draw: Callable[[], Image.Image]) -> Image.Image:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        img = draw()
        with self._lock:
            self._cache[key] = img
            while len(self._cache) > self.keep:
                self._cache.popitem(last=False)
        return img

    def _draw(self, location: str, time_of_day: str, atmosphere: str) -> Image.Image:
        art = self.art.get(location)
        if art is not None:
            return art_backdrop(art, time_of_day, atmosphere)
        return draw_backdrop(location, time_of_day, atmosphere, self.kind_of(location))

    def get(self, location: str, time_of_day: str = "", atmosphere: str = "") -> Image.Image:
        key = (location, time_of_day, atmosphere)
        return self._get(key, lambda: self._draw(*key))

    def card(self, location: str, time_of_day: str = "", atmosphere: str = "") -> Image.Image:
        """The backdrop darker and blurrier, behind a contextual card."""
        base = self.get(location, time_of_day, atmosphere)
        return self._get(
            ("\x00card:" + location, time_of_day, atmosphere),
            lambda: base.filter(ImageFilter.GaussianBlur(9)).point(lambda v: round(v * 0.55)),
        )
