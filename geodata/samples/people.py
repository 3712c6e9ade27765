"""Synthetic people: Chinese-style names, visibly fake ID numbers and phones, resident flags.

Every function is vectorised and deterministic given its numpy ``Generator``.

ID numbers follow the 18-character layout of GB 11643-1999 so that every validator accepts
them, but they start with the region code ``990101``: no province has the code 99, so no
real person holds such a number. Layout: region (6) + birth date YYYYMMDD (8) + sequence (3,
odd for men, even for women) + ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``).

Phones are 11 digits starting ``19900``: ``199 00xx xxxx``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

SYNTHETIC_REGION = "990101"
PHONE_PREFIX = "19900"
_PHONE_POOL = 1_000_000

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)

# The most common surnames, with weights roughly proportional to their frequency.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_WEIGHTS = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.9
GIVEN_CHARACTERS = "".join(
    dict.fromkeys(
        "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彩春菊凤洁梅琳素云莲真环雪"
        "荣爱妹香月莺媛瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨"
        "仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝"
        "晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽斌波辉宇浩凯健俊帆帅旭宁龙林欢阳建文子豪杰鹏飞鑫磊晨"
    )
)
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


def chinese_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` names: a surname and one or two given-name characters (70% two)."""
    surnames = np.array(list(SURNAMES))
    given = np.array(list(GIVEN_CHARACTERS))
    weights = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()
    family = rng.choice(surnames, size=n, p=weights)
    first = rng.choice(given, size=n)
    second = rng.choice(given, size=n)
    two = rng.random(n) < 0.7
    names = np.char.add(np.char.add(family, first), np.where(two, second, ""))
    return [str(name) for name in names]


def id_check_characters(first17: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """ISO 7064 MOD 11-2 check characters (ASCII codes) for rows of 17 ASCII digits."""
    digits = first17.astype(np.int64) - ord("0")
    return np.asarray(ID_CHECK[(digits * ID_WEIGHTS).sum(axis=1) % 11], dtype=np.uint8)


def synthetic_id_numbers(rng: np.random.Generator, n: int, birth_years: npt.ArrayLike) -> list[str]:
    """``n`` 18-character ID numbers with region 990101 (no such region) and a valid check."""
    years = np.broadcast_to(np.asarray(birth_years, dtype=np.int64), (n,))
    months = rng.integers(1, 13, size=n)
    days = rng.integers(1, 29, size=n)
    sequence = rng.integers(0, 1000, size=n)
    body = np.char.add(
        np.char.add(SYNTHETIC_REGION, np.char.zfill(years.astype(str), 4)),
        np.char.add(
            np.char.add(np.char.zfill(months.astype(str), 2), np.char.zfill(days.astype(str), 2)),
            np.char.zfill(sequence.astype(str), 3),
        ),
    )
    codes = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17)
    full = np.concatenate([codes, id_check_characters(codes)[:, None]], axis=1)
    return [s.decode() for s in np.frombuffer(full.tobytes(), dtype="S18")]


def synthetic_phones(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` 11-digit mobile numbers ``19900xxxxxx``, all different while n <= 1,000,000."""
    numbers = rng.choice(_PHONE_POOL, size=n, replace=n > _PHONE_POOL)
    return [str(s) for s in np.char.add(PHONE_PREFIX, np.char.zfill(numbers.astype(str), 6))]


def member_ages(rng: np.random.Generator, members: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Ages of every member of households of the given sizes, household by household.

    The first two members are adults (20-85); further members are children (0-19) with
    probability 0.6, else adults (20-90), as in three-generation households.
    """
    sizes = np.asarray(members, dtype=np.int64)
    position = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
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
