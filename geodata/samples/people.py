"""Made-up people: Chinese names, resident ID numbers, mobile numbers and resident flags.

Every function is vectorised and deterministic given its numpy ``Generator``.

ID numbers follow the 18-character layout of GB 11643-1999 so that every validator accepts
them: region (6) + birth date YYYYMMDD (8) + sequence (3, odd for men, even for women) +
ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``). The region always lies in
province 99, which does not exist, so no real person holds such a number. Mobile numbers
are 11 digits starting ``19900``: ``199 00xx xxxx``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.samples.sorted_groups import position_in_group

StrArray = npt.NDArray[np.str_]

FAKE_PROVINCE = 99
"""No province has the code 99: no real person holds an ID number generated here."""
FIXED_REGION = FAKE_PROVINCE * 10_000 + 101
"""The region 990101 of ``synthetic_id_numbers``; ``id_numbers`` draws one in 99xxxx."""
MOBILE_PREFIX = 19900
"""Mobile numbers are 199 00xx xxxx, a block kept for made-up numbers."""
MOBILE_POOL = 1_000_000
"""How many different mobile numbers the prefix leaves."""

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)
"""GB 11643-1999: the check character for each weighted digit sum modulo 11."""

# The most common surnames, with weights roughly proportional to their frequency.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_WEIGHTS = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.9
_SURNAME_P = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()
GIVEN_CHARACTERS = "".join(
    dict.fromkeys(
        "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彩春菊凤洁梅琳素云莲真环雪"
        "荣爱妹香月莺媛瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨"
        "仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝"
        "晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽斌波辉宇浩凯健俊帆帅旭宁龙林欢阳建文子豪杰鹏飞鑫磊晨"
    )
)
"""Given-name characters for anyone (``chinese_names``)."""
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国志文海东峰成家荣德"
FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲桂英秀兰萍红梅琳婷雪慧颖洁倩莉丹玉佳怡欣悦琪晶月云凤雯嘉琳"
"""Given-name characters by sex (``chinese_names_by_sex``)."""

ORIGIN_CITIES = (
    "武汉",
    "孝感",
    "黄冈",
    "荆州",
    "温州",
    "广州",
    "深圳",
    "上海",
    "北京",
    "杭州",
    "长沙",
    "郑州",
    "重庆",
    "成都",
    "南昌",
    "合肥",
)


def _chars(text: str) -> StrArray:
    return np.array(list(text))


def _digits(values: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.uint8]:
    """Each value as ``width`` decimal digits (most significant first), one column per digit."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10).astype(np.uint8)


def _ascii(codes: npt.NDArray[np.uint8]) -> StrArray:
    """Rows of ASCII byte codes as strings."""
    width = codes.shape[1]
    return np.ascontiguousarray(codes).view(f"S{width}").ravel().astype(f"U{width}")


# -- names ----------------------------------------------------------------------------------
def _surnames(rng: np.random.Generator, n: int) -> StrArray:
    """``n`` surnames, the common ones more often."""
    return _chars(SURNAMES)[rng.choice(len(SURNAMES), n, p=_SURNAME_P)]


def chinese_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` names: a surname and one or two given-name characters (70% two)."""
    family = _surnames(rng, n)
    given = _chars(GIVEN_CHARACTERS)
    first = given[rng.integers(0, len(given), n)]
    second = given[rng.integers(0, len(given), n)]
    two = rng.random(n) < 0.7
    names = np.strings.add(np.strings.add(family, first), np.where(two, second, ""))
    return [str(name) for name in names]


def chinese_names_by_sex(rng: np.random.Generator, male: npt.NDArray[np.bool_]) -> StrArray:
    """A surname and a one- or two-character given name (60% two) fitting each person's sex."""
    n = len(male)
    surname = _surnames(rng, n)
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


# -- ID numbers -----------------------------------------------------------------------------
def id_check_characters(first17: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """ISO 7064 MOD 11-2 check characters (ASCII codes) for rows of 17 ASCII digits."""
    digits = first17.astype(np.int64) - ord("0")
    return np.asarray(ID_CHECK_CHARS[(digits @ ID_WEIGHTS) % 11], dtype=np.uint8)


def _id_number_text(
    region: npt.NDArray[np.int64], ymd: npt.NDArray[np.int64], sequence: npt.NDArray[np.int64]
) -> StrArray:
    """Region, birth date (YYYYMMDD) and sequence as ID numbers with their check character."""
    digits = np.concatenate([_digits(region, 6), _digits(ymd, 8), _digits(sequence, 3)], axis=1)
    codes = (digits + ord("0")).astype(np.uint8)
    return _ascii(np.concatenate([codes, id_check_characters(codes)[:, None]], axis=1))


def synthetic_id_numbers(rng: np.random.Generator, n: int, birth_years: npt.ArrayLike) -> list[str]:
    """``n`` ID numbers of region 990101 born in the given years (day 1-28 of any month)."""
    years = np.broadcast_to(np.asarray(birth_years, dtype=np.int64), (n,))
    months = rng.integers(1, 13, size=n)
    days = rng.integers(1, 29, size=n)
    sequence = rng.integers(0, 1000, size=n)
    region = np.full(n, FIXED_REGION, dtype=np.int64)
    return [str(s) for s in _id_number_text(region, years * 10_000 + months * 100 + days, sequence)]


def id_numbers(
    rng: np.random.Generator, birth: npt.NDArray[np.datetime64], male: npt.NDArray[np.bool_]
) -> StrArray:
    """ID numbers of a region drawn in province 99, for the given birth dates and sexes."""
    n = len(birth)
    region = FAKE_PROVINCE * 10_000 + rng.integers(100, 10_000, n)
    days = birth.astype("datetime64[D]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    sequence = rng.integers(0, 500, n) * 2 + male.astype(np.int64)
    return _id_number_text(region, year * 10_000 + month * 100 + day, sequence)


# -- mobile numbers -------------------------------------------------------------------------
def _mobile_text(numbers: npt.NDArray[np.int64]) -> StrArray:
    """Numbers 0-999999 as mobile numbers ``19900xxxxxx``."""
    digits = _digits(MOBILE_PREFIX * MOBILE_POOL + numbers, 11)
    return _ascii((digits + ord("0")).astype(np.uint8))


def synthetic_phones(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` mobile numbers, all different while n <= 1,000,000."""
    numbers = rng.choice(MOBILE_POOL, size=n, replace=n > MOBILE_POOL)
    return [str(s) for s in _mobile_text(numbers)]


def mobile_numbers(rng: np.random.Generator, n: int) -> StrArray:
    """``n`` mobile numbers drawn independently (repeats possible)."""
    return _mobile_text(rng.integers(0, MOBILE_POOL, n, dtype=np.int64))


# -- ages and residents ---------------------------------------------------------------------
def birth_dates(
    rng: np.random.Generator, n: int, *, on: date, min_age: int = 0, max_age: int = 90
) -> npt.NDArray[np.datetime64]:
    """Birth dates of people aged min_age..max_age on a given day."""
    days = rng.integers(min_age * 365 + 1, max_age * 365 + 1, n)
    return np.datetime64(on, "D") - days


def member_ages(rng: np.random.Generator, members: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Ages of every member of households of the given sizes, household by household.

    The first two members are adults (20-85); further members are children (0-19) with
    probability 0.6, else adults (20-90), as in three-generation households.
    """
    sizes = np.asarray(members, dtype=np.int64)
    position = position_in_group(sizes)
    adult = rng.integers(20, 86, size=position.size)
    child = rng.integers(0, 20, size=position.size)
    elder = rng.integers(20, 91, size=position.size)
    later = np.where(rng.random(position.size) < 0.6, child, elder)
    return np.where(position < 2, adult, later)


def synthetic_residents(
    rng: np.random.Generator,
    members: npt.ArrayLike,
    *,
    today: date,
    returnee_share: float = 0.02,
    close_contact_share: float = 0.003,
    fever_share: float = 0.001,
) -> pd.DataFrame:
    """One row per resident of households of the given sizes (column ``household``: position).

    Returnees (about 2%, aged 16 or more) come from a city in ``ORIGIN_CITIES`` and returned
    within the last 20 days; their quarantine ends 14 days after return. About 0.3% are close
    contacts and 0.1% have fever. Children under 14 have no phone.
    """
    sizes = np.asarray(members, dtype=np.int64)
    n = int(sizes.sum())
    ages = member_ages(rng, sizes)
    birth_years = today.year - ages
    phones = np.array(synthetic_phones(rng, n), dtype=object)
    phones[ages < 14] = None
    returnee = (rng.random(n) < returnee_share) & (ages >= 16)
    days_back = rng.integers(0, 20, size=n)
    returned_on = np.array([today - timedelta(days=int(d)) for d in range(20)], dtype=object)[
        days_back
    ]
    until = np.array([today + timedelta(days=14 - int(d)) for d in range(20)], dtype=object)[
        days_back
    ]
    origins = rng.choice(np.array(ORIGIN_CITIES, dtype=object), size=n)
    origin = np.full(n, None, dtype=object)
    origin[returnee] = origins[returnee]
    back_on = np.full(n, None, dtype=object)
    back_on[returnee] = returned_on[returnee]
    quarantine_until = np.full(n, None, dtype=object)
    quarantine_until[returnee] = until[returnee]
    return pd.DataFrame(
        {
            "household": np.repeat(np.arange(sizes.size), sizes),
            "name": chinese_names(rng, n),
            "id_number": synthetic_id_numbers(rng, n, birth_years),
            "phone": phones,
            "age": ages,
            "returnee": returnee,
            "origin": origin,
            "returned_on": back_on,
            "close_contact": rng.random(n) < close_contact_share,
            "fever": rng.random(n) < fever_share,
            "quarantine_until": quarantine_until,
        }
    )
