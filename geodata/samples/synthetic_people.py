"""Made-up Chinese names, resident ID numbers and mobile numbers, generated as numpy arrays.

ID numbers have the layout and check character of GB 11643-1999 but the
province code 99, which does not exist; mobile numbers start 199 00.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from numpy.typing import NDArray

StrArray = NDArray[np.str_]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国志文海东峰成家荣德"
FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲桂英秀兰萍红梅琳婷雪慧颖洁倩莉丹玉佳怡欣悦琪晶月云凤雯嘉琳"

FAKE_PROVINCE = 99
"""No province has the code 99: no real person holds an ID number generated here."""
MOBILE_PREFIX = 19900
"""Mobile numbers are 199 00xx xxxx, a block kept for made-up numbers in this project."""

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)
"""GB 11643-1999: the check character for each weighted digit sum modulo 11."""

_SURNAME_WEIGHTS = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.9
_SURNAME_P = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()


def _chars(text: str) -> NDArray[np.str_]:
    return np.array(list(text))


def _digits(values: NDArray[np.int64], width: int) -> NDArray[np.uint8]:
    """Each value as ``width`` decimal digits (most significant first), one column per digit."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10).astype(np.uint8)


def _ascii(codes: NDArray[np.uint8]) -> StrArray:
    """Rows of ASCII byte codes as strings."""
    width = codes.shape[1]
    return np.ascontiguousarray(codes).view(f"S{width}").ravel().astype(f"U{width}")


def names(rng: np.random.Generator, male: NDArray[np.bool_]) -> StrArray:
    """A surname and a one- or two-character given name fitting each person's sex."""
    n = len(male)
    surname = _chars(SURNAMES)[rng.choice(len(SURNAMES), n, p=_SURNAME_P)]
    male_chars, female_chars = _chars(MALE_CHARS), _chars(FEMALE_CHARS)
    first = np.where(
        male,
        male_chars[rng.integers(0, len(male_chars), n)],
        female_chars[rng.integers(0, len(female_chars), n)],
    )
    second = np.where(
        rng.random(n) < 0.6,
        np.where(
            male,
            male_chars[rng.integers(0, len(male_chars), n)],
            female_chars[rng.integers(0, len(female_chars), n)],
        ),
        "",
    )
    return np.strings.add(np.strings.add(surname, first), second)


def id_numbers(
    rng: np.random.Generator, birth: NDArray[np.datetime64], male: NDArray[np.bool_]
) -> StrArray:
    """18-character resident ID numbers with a valid check character.

    Region (province 99, which does not exist), birth date, a sequence number
    odd for men and even for women, and the GB 11643 check character.
    """
    n = len(birth)
    region = FAKE_PROVINCE * 10_000 + rng.integers(100, 10_000, n)
    days = birth.astype("datetime64[D]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    ymd = year * 10_000 + month * 100 + day
    seq = rng.integers(0, 500, n) * 2 + male.astype(np.int64)
    digits = np.concatenate([_digits(region, 6), _digits(ymd, 8), _digits(seq, 3)], axis=1)
    check = ID_CHECK_CHARS[(digits.astype(np.int64) @ ID_WEIGHTS) % 11]
    codes = np.concatenate([digits + ord("0"), check[:, None]], axis=1).astype(np.uint8)
    return _ascii(codes)


def mobile_numbers(rng: np.random.Generator, n: int) -> StrArray:
    """11-digit mobile numbers 199 00xx xxxx."""
    number = MOBILE_PREFIX * 1_000_000 + rng.integers(0, 1_000_000, n, dtype=np.int64)
    digits = _digits(number, 11)
    return _ascii((digits + ord("0")).astype(np.uint8))


def birth_dates(
    rng: np.random.Generator, n: int, *, on: date, min_age: int = 0, max_age: int = 90
) -> NDArray[np.datetime64]:
    """Birth dates of people aged min_age..max_age on a given day."""
    days = rng.integers(min_age * 365 + 1, max_age * 365 + 1, n)
    return np.datetime64(on, "D") - days
