"""Korean grammar helpers: particles, placeholders, 해요체 → 반말, syllable counts.

Plain functions over strings; every story module (writer, reviser, quality gate) shares them.
"""

from __future__ import annotations

import re

_DIGIT_FINAL = {"0": 21, "1": 8, "2": 0, "3": 16, "4": 0, "5": 0, "6": 1, "7": 8, "8": 8, "9": 0}


def final_consonant(word: str) -> int:
    """The final consonant (종성 index, 0 = none) of the last pronounced character of `word`."""
    for ch in reversed(word):
        code = ord(ch)
        if 0xAC00 <= code <= 0xD7A3:
            return (code - 0xAC00) % 28
        if ch.isdigit():
            return _DIGIT_FINAL[ch]
        if ch.isascii() and ch.isalpha():
            return {"L": 8, "R": 8, "M": 16, "N": 4}.get(ch.upper(), 0)
    return 0


def josa(word: str, forms: str) -> str:
    """`word` with the particle that fits it: josa("민준", "이/가") == "민준이"."""
    with_final, without = (forms.split("/") + [""])[:2]
    final = final_consonant(word)
    if forms == "으로/로":
        return word + ("로" if final in (0, 8) else "으로")
    return word + (with_final if final else without)


def casual_vocative(given: str) -> str:
    return josa(given, "아/야")


def casual_reference(given: str) -> str:
    return josa(given, "이/")


_PLACEHOLDER = re.compile(r"\{(\w+)(?:\|([^}]*))?\}")


def fill(text: str, values: dict[str, str]) -> str:
    """Replace {key} and {key|이/가} placeholders; 너 takes its irregular forms (네가, 네)."""

    def sub(m: re.Match[str]) -> str:
        key, forms = m.group(1), m.group(2)
        value = values[key]
        if not forms:
            return value
        if value == "너":
            return {"이/가": "네가", "은/는": "너는", "을/를": "너를", "과/와": "너와", "이랑/랑": "너랑"}.get(
                forms, josa(value, forms)
            )
        return josa(value, forms)

    return _PLACEHOLDER.sub(sub, text)


# Polite words whose plain form is not just "drop 요" (applied before the endings).
_PLAIN_WORDS = (
    ("아니에요", "아니야"),
    ("감사해요", "고마워요"),
    ("죄송해요", "미안해요"),
    ("죄송했어요", "미안했어요"),
    ("죄송한데", "미안한데"),
    ("말씀", "말"),
    ("드릴게요", "줄게요"),
    ("드릴까요", "줄까요"),
    ("드려요", "줘요"),
    ("드렸어요", "줬어요"),
    ("계세요", "있어요"),
    ("하세요", "해요"),
    ("가세요", "가요"),
    ("오세요", "와요"),
    ("보세요", "봐요"),
    ("주세요", "줘요"),
    ("앉으세요", "앉아요"),
    ("드세요", "먹어요"),
    ("괜찮으세요", "괜찮아요"),
)
WORD_END = r"(?=[\s,.!?…~\"')/}]|$)"  # "/" and "}" end a particle option: {T|이잖아요/잖아요}
_PLAIN_ENDINGS = (
    (re.compile(r"이에요" + WORD_END), "이야"),
    (re.compile(r"예요" + WORD_END), "야"),
    (re.compile(r"죠" + WORD_END), "지"),
    (re.compile(r"(?<!필)요" + WORD_END), ""),  # 필요 is a noun, not an ending
)
WORD_START = r"(?:(?<=^)|(?<=[\s,.!?…\"'(]))"
_PLAIN_PRONOUNS = tuple(
    (re.compile(WORD_START + polite + WORD_END), plain)
    for polite, plain in (
        ("저희", "우리"),
        ("제가", "내가"),
        ("저는", "나는"),
        ("저도", "나도"),
        ("저를", "나를"),
        ("저한테", "나한테"),
        ("저랑", "나랑"),
        ("저만", "나만"),
        ("저야", "나야"),
        ("저라고", "나라고"),
        ("저", "나"),
        ("제", "내"),
    )
)
# 저 with a longer particle ("저한테는", "저한테만은", "저랑도") is 나 in 반말 too.
_PLAIN_PRONOUNS = (
    (re.compile(WORD_START + r"저(?=(?:한테|에게|랑|하고|보다|처럼|까지|부터)[가-힣]*" + WORD_END + ")"), "나"),
    *_PLAIN_PRONOUNS,
)
_YES = re.compile(WORD_START + r"네(?=[,.!])")  # 네 as "yes", not 네 번째


def to_banmal(text: str) -> str:
    """해요체 → 반말 for the line library's patterns (endings, 저/제, 네)."""
    for polite, plain in _PLAIN_WORDS:
        text = text.replace(polite, plain)
    for pattern, plain in _PLAIN_ENDINGS:
        text = pattern.sub(plain, text)
    text = re.sub(WORD_START + r"네\?", "뭐?", text)
    for pattern, plain in _PLAIN_PRONOUNS:
        text = pattern.sub(plain, text)
    return _YES.sub("응", text)


def hangul_syllables(text: str) -> int:
    return sum(1 for ch in text if 0xAC00 <= ord(ch) <= 0xD7A3)


def thread_keyword(thread: str) -> str:
    """The keyword of a plot thread ("지분 요구: 성훈이 ..." → "지분 요구"), as said in dialogue."""
    head = thread.split(":", 1)[0].strip()
    if ":" in thread and 0 < len(head) <= 20:
        return head
    words = thread.split()
    return " ".join(words[:2]) if len(thread) > 12 else thread.strip()


def speech_only(style: str) -> str | None:
    """'polite' or 'banmal' when a speech style names one level for everyone ("깍듯한 존댓말",
    "무뚝뚝한 반말"); None when it names both, a mix, or a level for some people only ("친구에게는 반말")."""
    if "섞" in style or ("존댓말" in style) == ("반말" in style) or re.search(r"에게|앞에서|때는|한테", style):
        return None
    return "polite" if "존댓말" in style else "banmal"
