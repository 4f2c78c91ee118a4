# ruff: noqa: E501  (sentence templates read best one per line)
"""A generator of honest and reworded-copy narratives (Chinese and English) for the paraphrase
control's tests and rates.

Honest: each firm has its own facts (trade, products, places, numbers) and its officer writes
from a shared stock of formulaic sentences (officers do), choosing templates and order freely.
Faked: another firm's report copied by someone who knows the controls: the firm's name and a
number changed, words swapped for synonyms, sentences reordered, one sentence dropped.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from apps.investigations.controls import paraphrase

TRADES_ZH = [("五金", "螺丝和工具"), ("餐饮", "快餐和外卖"), ("服装", "童装和女装"),
             ("建材", "瓷砖和涂料"), ("食品批发", "粮油和调味品"), ("汽修", "保养和钣金"),
             ("印刷", "包装盒和宣传册"), ("家具", "办公桌椅"), ("电子配件", "手机配件"),
             ("茶叶", "绿茶和普洱"), ("水产", "冻品和海鲜"), ("农资", "化肥和种子")]
PLACES_ZH = ["义乌", "临沂", "广州", "佛山", "东莞", "温州", "泉州", "成都", "长沙", "郑州",
             "合肥", "宁波"]
CUSTOMERS_ZH = ["周边居民", "小区业主", "装修公司", "学校食堂", "批发商", "网店", "工地",
                "超市", "酒店", "物流公司"]
PAY_ZH = ["微信", "支付宝", "银行转账", "现金"]
TRADES_EN = [("hardware", "screws and tools"), ("catering", "fast food and delivery"),
             ("clothing", "children's wear"), ("building materials", "tiles and paint"),
             ("food wholesale", "rice, oil and sauces"), ("car repair", "servicing and bodywork"),
             ("printing", "boxes and brochures"), ("furniture", "office desks and chairs"),
             ("electronics", "phone accessories"), ("tea", "green and pu-erh tea"),
             ("seafood", "frozen fish and shellfish"), ("farm supplies", "fertiliser and seed")]
PLACES_EN = ["Yiwu", "Linyi", "Guangzhou", "Foshan", "Dongguan", "Wenzhou", "Quanzhou",
             "Chengdu", "Changsha", "Zhengzhou", "Hefei", "Ningbo"]
CUSTOMERS_EN = ["local residents", "property owners", "decorators", "school canteens",
                "wholesalers", "online shops", "building sites", "supermarkets", "hotels",
                "logistics firms"]
PAY_EN = ["WeChat Pay", "Alipay", "bank transfer", "cash"]

ZH = {
    "intro": ["{name}成立于{year}年，主要经营{trade}，经营者从事该行业{exp}年。",
              "该企业{year}年开业，主营{trade}生意，老板有{exp}年行业经验。",
              "{name}是一家{trade}商户，{year}年创办，负责人入行{exp}年。"],
    "product": ["主要产品为{product}，品种较多。", "店里主要卖{product}，货品齐全。",
                "主营{product}，现场看到货架摆放整齐。"],
    "site": ["经营场所位于{place}，面积约{area}平方米，租金每月{rent}元。",
             "门店在{place}，约{area}平方米，房租每个月{rent}元。",
             "现场查看了{place}的店面，面积大概{area}平方米，月租{rent}元。"],
    "staff": ["共有员工{staff}人，均为本地人。", "雇员{staff}名，老板亲自管理。",
              "现场看到工人{staff}人左右在岗。"],
    "revenue": ["月营业额约{rev}万元，经营稳定。", "每月销售额大概{rev}万元，生意平稳。",
                "据老板介绍月均营收{rev}万元，近一年有所增长。"],
    "customers": ["客户主要是{customer}，回头客较多。", "下游客户以{customer}为主。",
                  "顾客多为{customer}，关系稳定。"],
    "supplier": ["货源来自{place2}的供应商，合作{coop}年。", "上游供货商在{place2}，已合作{coop}年。",
                 "主要从{place2}进货，合作关系稳定{coop}年。"],
    "pay": ["结算方式以{pay}为主。", "收款主要通过{pay}。", "大部分回款走{pay}。"],
    "stock": ["现场库存价值约{stock}万元。", "存货大概{stock}万元，与经营规模相符。",
              "查看了仓库，备货约{stock}万元。"],
    "power": ["每月电费约{power}元。", "水电费每个月{power}元左右。", "用电每月约{power}元，与规模匹配。"],
}
EN = {
    "intro": ["{name} was founded in {year} and trades in {trade}; the owner has {exp} years in the trade.",
              "The business opened in {year} in the {trade} line, run by an owner with {exp} years of experience.",
              "{name} is a {trade} firm set up in {year}; the proprietor has worked in it for {exp} years."],
    "product": ["Its main products are {product}.", "The shop mainly sells {product}.",
                "We saw {product} on well-kept shelves."],
    "site": ["The premises in {place} cover about {area} square metres at a rent of {rent} yuan a month.",
             "The shop is in {place}, roughly {area} square metres, rented for {rent} yuan monthly.",
             "We inspected the {area} square metre site in {place}; monthly rent is {rent} yuan."],
    "staff": ["There are {staff} employees, all local.", "The owner manages {staff} staff directly.",
              "About {staff} workers were on duty during the visit."],
    "revenue": ["Monthly revenue is about {rev}0,000 yuan and stable.",
                "Sales are roughly {rev}0,000 yuan a month and steady.",
                "The owner reports monthly turnover of {rev}0,000 yuan, up over the past year."],
    "customers": ["Customers are mainly {customer}, with many repeat buyers.",
                  "Most buyers are {customer}.", "Clients are chiefly {customer} and loyal."],
    "supplier": ["Goods come from suppliers in {place2}, used for {coop} years.",
                 "The main vendor is in {place2}, a relationship of {coop} years.",
                 "Stock is bought mostly from {place2}, from the same wholesalers for {coop} years."],
    "pay": ["Payments are mostly settled by {pay}.", "Most takings arrive by {pay}.",
            "Customers chiefly pay by {pay}."],
    "stock": ["Inventory on site is worth about {stock}0,000 yuan.",
              "Stock of roughly {stock}0,000 yuan matches the scale of the business.",
              "We checked the warehouse: goods worth about {stock}0,000 yuan."],
    "power": ["Electricity costs about {power} yuan a month.", "Utilities run to {power} yuan monthly.",
              "Power use of about {power} yuan a month fits the scale."],
}


def facts(rnd: random.Random, language: str) -> dict:
    trades = TRADES_ZH if language == "zh" else TRADES_EN
    places = PLACES_ZH if language == "zh" else PLACES_EN
    trade, product = rnd.choice(trades)
    place, place2 = rnd.sample(places, 2)
    surname = rnd.choice("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高")
    name = (f"{place}{surname}记{trade}店" if language == "zh"
            else f"{place} {rnd.choice(['Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang'])} {trade.title()}")
    return {"name": name, "trade": trade, "product": product, "place": place, "place2": place2,
            "year": rnd.randint(2005, 2021), "exp": rnd.randint(3, 25),
            "area": rnd.choice([40, 60, 80, 120, 150, 200, 300, 500]),
            "rent": rnd.choice([1500, 2500, 3000, 4500, 6000, 8000, 12000]),
            "staff": rnd.randint(2, 30), "rev": rnd.randint(5, 90), "coop": rnd.randint(2, 12),
            "customer": rnd.choice(CUSTOMERS_ZH if language == "zh" else CUSTOMERS_EN),
            "pay": rnd.choice(PAY_ZH if language == "zh" else PAY_EN),
            "stock": rnd.randint(3, 60), "power": rnd.choice([300, 800, 1200, 2500, 4000, 7000])}


def honest(rnd: random.Random, language: str, firm: dict | None = None) -> tuple[str, dict]:
    """A narrative of one firm: 7-10 topics, each from a freely chosen template."""
    firm = firm or facts(rnd, language)
    stock = ZH if language == "zh" else EN
    topics = ["intro"] + rnd.sample([t for t in stock if t != "intro"], rnd.randint(6, 9))
    lines = [rnd.choice(stock[t]).format(**firm) for t in topics]
    return ("" if language == "zh" else " ").join(lines), firm


def _synonym_swap(text: str, rnd: random.Random, language: str) -> str:
    data = json.loads(Path(paraphrase._DATA).read_text(encoding="utf-8"))
    groups = data[language]
    if language == "zh":
        variants = sorted({v for g in groups for v in g}, key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(v) for v in variants))
        owner = {v: g for g in groups for v in g}
        return pattern.sub(lambda m: rnd.choice(owner[m.group(0)])
                           if rnd.random() < 0.8 else m.group(0), text)
    owner = {v: g for g in groups for v in g}
    return re.sub(r"[A-Za-z]+", lambda m: rnd.choice(owner[m.group(0).lower()])
                  if m.group(0).lower() in owner and rnd.random() < 0.8 else m.group(0), text)


def reworded_copy(source: str, source_firm: dict, rnd: random.Random, language: str) -> str:
    """`source` passed off as a new client's report."""
    new = facts(rnd, language)
    text = source.replace(source_firm["name"], new["name"])
    numbers = [k for k in ("rent", "staff", "rev", "power") if str(source_firm[k]) in text]
    for key in rnd.sample(numbers, min(1, len(numbers))):
        text = text.replace(str(source_firm[key]), str(new[key]))
    text = _synonym_swap(text, rnd, language)
    parts = paraphrase.sentences(text)
    rnd.shuffle(parts)
    if len(parts) > 5:
        parts.pop(rnd.randrange(len(parts)))
    end = "。" if language == "zh" else ". "
    return end.join(p.rstrip(".") for p in parts) + end.strip()


def cases(count: int, seed: int = 0):
    """(language, earlier report, honest new report, faked new report) of `count` cases, half
    Chinese and half English; the honest one is about a different firm."""
    rnd = random.Random(seed)
    for i in range(count):
        language = "zh" if i % 2 == 0 else "en"
        earlier, firm = honest(rnd, language)
        other, _ = honest(rnd, language)
        yield language, earlier, other, reworded_copy(earlier, firm, rnd, language)
