"""A statement read as an investigator reads it: where money comes from and goes to, over time.

Three patterns, each reported with the transactions behind it:

* **Round trips** — money sent out and returned (or received and sent back) within a lag of
  days, returned whole or split into up to N parts, by the same counterparty, a related one
  (the same name once place and legal form are stripped, or a party the file declares
  related), or through a chain: a counterparty whose every payment in is a return of money
  sent to the same other counterparty, repeatedly. One coincidence is not a pattern: the
  finding needs a policy number of cycles carrying a policy share of the money in.
* **Regular payments** — a run of payments to one counterparty about a month apart and of
  near-constant amount, making up most of what that counterparty was paid over the run, that
  no operating-expense word explains (rent, wages, tax, utilities):
  what debt service looks like when the debt was not declared.
* **Cash concentration** — cash as a share of money in, and cash deposits kept just under the
  large-cash reporting amount.

Every threshold is a policy value (`statements/policies.py`); a missing one is a finding.
"""

from __future__ import annotations

import bisect
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from apps.core.names import Match, RelatedParties, core_name
from apps.documents.checks import flag
from apps.documents.checks.records import Transaction

ZERO = Decimal("0")
QUOTED = 12  # transactions quoted per finding (the finding says how many there were)

# Words that explain a regular payment as an operating expense (not debt service).
EXPENSE_WORDS = ("工资", "薪", "房租", "租金", "物业", "水费", "电费", "燃气", "社保", "公积金",
                 "税", "保险", "rent", "salary", "salaries", "payroll", "wage", "utilit",
                 "tax", "insurance", "pension", "lease")
LENDER_WORDS = ("贷款", "还款", "借款", "利息", "分期", "小贷", "小额贷款", "融资", "金融", "担保",
                "典当", "loan", "repay", "interest", "instal", "credit", "finance", "lending")
CASH_WORDS = ("现金", "取现", "存现", "atm", "cash")


def quote(txns: list[Transaction]) -> list[dict]:
    return [{"date": t.date.isoformat(), "amount": str(t.amount), "counterparty": t.counterparty,
             "description": t.description} for t in txns[:QUOTED]]


@dataclass
class Cycle:
    seed: Transaction
    returns: list[Transaction]
    route: str  # "same" | "related" | "chained"
    # How the two ends of a "related" cycle were related: "identity" (an account, USCC,
    # registered name or recorded alias of the party graph) or "text" (names alone); and how
    # each end was matched to the graph ("account", "alias", ..., "text", "kin_name").
    related_by: str = ""
    matched: tuple[str, str] = ("", "")

    @property
    def amount(self) -> Decimal:
        return abs(self.seed.amount)

    def as_json(self) -> dict:
        found = {"route": self.route, "lag_days": (self.returns[-1].date - self.seed.date).days,
                 "parts": len(self.returns), "transactions": quote([self.seed, *self.returns])}
        if self.related_by:
            found.update(related_by=self.related_by, matched_by=list(self.matched))
        return found


Policy = Callable[[str], Decimal | None]


def _need(policy: Policy, key: str, flags: list[dict]) -> Decimal | None:
    value = policy(key)
    if value is None:
        flags.append(flag("policy_missing", key=key))
    return value


def _cents(t: Transaction) -> int:
    return int(abs(t.amount) * 100)


def _subset(candidates: list[Transaction], target: Decimal, tolerance: Decimal,
            max_parts: int) -> list[Transaction] | None:
    """The smallest set of up to `max_parts` (at most 3) candidates whose sum is within
    [target·(1−tolerance), target]: a return is never more than what went out (fees).
    Integer cents and two pointers over the sorted amounts: O(n²) for three parts."""
    high = int(target * 100)
    low = int(target * (1 - tolerance) * 100)
    pool = sorted(((_cents(t), t) for t in candidates[:12]), key=lambda p: p[0])
    pool = [p for p in pool if p[0] <= high]
    values = [v for v, _t in pool]
    for v, t in pool:
        if low <= v:
            return [t]
    n = len(values)
    if max_parts >= 2:
        i, j = 0, n - 1
        while i < j:
            total = values[i] + values[j]
            if total > high:
                j -= 1
            elif total < low:
                i += 1
            else:
                return sorted([pool[i][1], pool[j][1]], key=lambda t: t.date)
    if max_parts >= 3:
        for k in range(n - 2):
            i, j = k + 1, n - 1
            while i < j:
                total = values[k] + values[i] + values[j]
                if total > high:
                    j -= 1
                elif total < low:
                    i += 1
                else:
                    return sorted([pool[k][1], pool[i][1], pool[j][1]], key=lambda t: t.date)
    return None


def _parties(related) -> RelatedParties:
    if isinstance(related, RelatedParties):
        return related
    return RelatedParties(names=[r for r in related or () if r])


def _party(parties: RelatedParties, t: Transaction) -> Match | None:
    return parties.match(t.counterparty, getattr(t, "account", ""), t.description)


def _relation(seed_core: str, seed_match: Match | None, core: str,
              core_matches: dict[str, Match]) -> tuple[str, tuple[str, str]] | None:
    """("identity" | "text", how each end matched) when the two counterparties are related:
    both matched to the party graph (identity only if both ends matched by identity), or
    their names share a core (华达贸易 and 华达贸易香港: text)."""
    other = core_matches.get(core)
    if seed_match is not None and other is not None:
        both = seed_match.by_identity and other.by_identity
        return ("identity" if both else "text"), (seed_match.how, other.how)
    if _related(seed_core, core, set()):
        return "text", ("kin_name", "kin_name")
    return None


def round_trip_cycles(txns: list[Transaction], *, lag_days: int, tolerance: Decimal,
                      max_parts: int, min_amount: Decimal, conduit_max: int = 24,
                      related: set[str] | RelatedParties = frozenset(),
                      busy_multiple: Decimal | None = None) -> list[Cycle]:
    """Cycles in both directions (out then back in; in then back out), each return used once.
    A counterparty with more than `conduit_max` payments one way is a business partner and is
    not searched as a conduit (which also keeps the search linear in the rows). Such a busy
    partner's payments add up to almost anything within days, so a return from a busy partner
    that is only related to the other end (a group firm, the controller) counts only when it
    stands out: at least `busy_multiple` times the partner's median payment.

    `related`: the parties related to the borrower (`RelatedParties`: matched by account,
    USCC, registered name or alias, with names as a marked fallback), or bare names (text)."""
    parties = _parties(related)
    cores = {t.counterparty: core_name(t.counterparty) for t in txns if t.counterparty}
    matches = {id(t): _party(parties, t) for t in txns if t.counterparty} if parties else {}
    # A core's match: by identity if any of its transactions matched so (a same-named
    # counterparty on another account does not), else by text.
    core_matches: dict[str, Match] = {}
    for t in txns:
        found = matches.get(id(t))
        if found is not None:
            current = core_matches.get(cores[t.counterparty])
            if current is None or (found.by_identity and not current.by_identity):
                core_matches[cores[t.counterparty]] = found
    used: set[int] = set()
    cycles: list[Cycle] = []
    chain_candidates: dict[tuple[str, str], list[Cycle]] = defaultdict(list)
    for direction in (-1, 1):  # seeds: outflows first, then inflows
        seeds = [t for t in txns if t.amount * direction > 0 and abs(t.amount) >= min_amount
                 and t.counterparty]
        by_core: dict[str, list[Transaction]] = defaultdict(list)
        for t in txns:  # returns, per counterparty core, in date order
            if t.amount * direction < 0 and t.counterparty:
                by_core[cores[t.counterparty]].append(t)
        dates = {core: [t.date.toordinal() for t in items] for core, items in by_core.items()}
        conduits = [core for core, items in by_core.items() if 2 <= len(items) <= conduit_max]
        medians = {core: statistics.median(abs(t.amount) for t in items)
                   for core, items in by_core.items() if len(items) > conduit_max}
        linked: dict[tuple[str, Match | None], list[tuple[str, tuple | None]]] = {}
        for seed in seeds:
            seed_core = cores[seed.counterparty]
            seed_match = matches.get(id(seed))
            if (seed_core, seed_match) not in linked:
                near = [(c, None if c == seed_core else
                         _relation(seed_core, seed_match, c, core_matches)) for c in by_core]
                near = [(c, rel) for c, rel in near if c == seed_core or rel is not None]
                linked[(seed_core, seed_match)] = near + [
                    (c, None) for c in conduits if c not in {n for n, _r in near}]
            first, last = seed.date.toordinal(), seed.date.toordinal() + lag_days
            for group_core, relation in linked[(seed_core, seed_match)]:
                days = dates[group_core]
                start = bisect.bisect_left(days, first)
                stop = bisect.bisect_right(days, last)
                candidates = [t for t in by_core[group_core][start:stop] if id(t) not in used]
                if relation is not None and relation[1][1] != "kin_name":
                    # only the returns that are the related party (not a namesake)
                    candidates = [t for t in candidates if matches.get(id(t)) is not None]
                if not candidates:
                    continue
                match = _subset(candidates, abs(seed.amount), tolerance, max_parts)
                if match is None:
                    continue
                related_by, matched = "", ("", "")
                if group_core == seed_core:
                    route = "same" if all(t.counterparty == seed.counterparty
                                          for t in match) else "related"
                    if route == "related":
                        related_by, matched = "text", ("kin_name", "kin_name")
                elif relation is not None:
                    route = "related"
                    related_by, matched = relation
                    if (busy_multiple is not None and group_core in medians
                            and sum(abs(t.amount) for t in match)
                            < busy_multiple * medians[group_core]):
                        continue  # a busy group partner's ordinary payments, by chance
                else:
                    chain_candidates[(seed_core, group_core)].append(
                        Cycle(seed, match, "chained"))
                    continue
                used.update(id(t) for t in match)
                cycles.append(Cycle(seed, match, route, related_by, matched))
                break
    cycles += _chains(txns, chain_candidates, cores, used)
    return sorted(cycles, key=lambda c: c.seed.date)


def _related(a: str, b: str, declared: set[str]) -> bool:
    if not a or not b:
        return False
    if a in declared and b in declared:
        return True
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) < 4 or shorter not in longer:
        return False  # 张伟 and 张伟华 are different people; 华达贸易 and 华达贸易香港 are kin
    rest = longer.replace(shorter, "", 1)
    return not rest.isdigit()  # 客户12 and 客户123 are two walk-in customers


def _chains(txns, candidates, cores, used) -> list[Cycle]:
    """A conduit: a counterparty all of whose money in (or out) returns money sent to (or
    received from) one same other counterparty, at least twice."""
    totals: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
    for t in txns:
        if t.counterparty:
            totals[(cores[t.counterparty], 1 if t.amount > 0 else -1)] += abs(t.amount)
    found = []
    for (_seed_core, conduit), cycles in candidates.items():
        fresh, seen_seeds = [], set()
        for cycle in cycles:
            if id(cycle.seed) in seen_seeds or any(id(t) in used for t in cycle.returns):
                continue
            seen_seeds.add(id(cycle.seed))
            fresh.append(cycle)
        if len(fresh) < 2:
            continue
        sign = 1 if fresh[0].returns[0].amount > 0 else -1
        returned = sum((abs(t.amount) for c in fresh for t in c.returns), ZERO)
        if returned >= totals[(conduit, sign)] * Decimal("0.95"):
            for cycle in fresh:
                used.update(id(t) for t in cycle.returns)
            found += fresh
    return found


def round_trip_flags(txns: list[Transaction], policy: Policy, flags: list[dict], *,
                     related: set[str] | RelatedParties = frozenset()) -> dict:
    keys = ("documents.flow.round_trip_lag_days", "documents.flow.round_trip_tolerance",
            "documents.flow.round_trip_max_parts", "documents.flow.round_trip_min_amount",
            "documents.flow.round_trip_min_cycles", "documents.flow.conduit_max_transactions",
            "documents.flow.round_trip_min_share", "documents.flow.round_trip_busy_multiple")
    values = [_need(policy, k, flags) for k in keys]
    if any(v is None for v in values):
        return {}
    lag, tolerance, parts, min_amount, min_cycles, conduit_max, min_share, busy = values
    cycles = round_trip_cycles(txns, lag_days=int(lag), tolerance=tolerance,
                               max_parts=int(parts), min_amount=min_amount,
                               conduit_max=int(conduit_max), related=related,
                               busy_multiple=busy)
    total_in = sum((t.amount for t in txns if t.amount > 0), ZERO)
    amount = sum((c.amount for c in cycles), ZERO)
    by_text = sum(1 for c in cycles if c.related_by == "text")
    by_identity = sum(1 for c in cycles if c.related_by == "identity")
    summary = {"round_trip_cycles": len(cycles), "round_trip_cycle_amount": str(amount),
               "round_trip_routes": {r: sum(1 for c in cycles if c.route == r)
                                     for r in ("same", "related", "chained")},
               "round_trip_related_by": {"identity": by_identity, "text": by_text}}
    share = (amount / total_in).quantize(Decimal("0.0001")) if total_in else ZERO
    if len(cycles) >= min_cycles and share >= min_share:
        flags.append(flag("flow_round_trips", cycles=len(cycles), amount=amount, share=share,
                          limit=min_cycles, lag_days=int(lag),
                          related_by_identity=by_identity, related_by_text=by_text,
                          examples=[c.as_json() for c in cycles[:QUOTED]]))
    return summary


def _has(words, *texts) -> bool:
    joined = " ".join(texts).lower()
    return any(w in joined for w in words)


def regular_payment_flags(txns: list[Transaction], policy: Policy, flags: list[dict], *,
                          related: set[str] | RelatedParties = frozenset()) -> dict:
    keys = ("documents.flow.regular_min_payments", "documents.flow.regular_interval_min_days",
            "documents.flow.regular_interval_max_days", "documents.flow.regular_amount_spread_max",
            "documents.flow.regular_min_amount", "documents.flow.regular_share_min")
    values = [_need(policy, k, flags) for k in keys]
    if any(v is None for v in values):
        return {}
    min_payments, gap_min, gap_max, spread_max, min_amount, share_min = values
    groups: dict[str, list[Transaction]] = defaultdict(list)
    for t in txns:
        if t.amount < 0 and -t.amount >= min_amount:
            groups[core_name(t.counterparty) or f"~{t.description}"].append(t)
    series = []
    for payments in groups.values():
        if len(payments) < min_payments:
            continue
        run = _longest_regular_run(payments, int(gap_min), int(gap_max), spread_max)
        if len(run) < min_payments:
            continue
        during = sum(1 for t in payments if run[0].date <= t.date <= run[-1].date)
        if Decimal(len(run)) < share_min * during:
            continue  # a busy supplier's payments happen to include a monthly-looking chain
        if _has(EXPENSE_WORDS, *(f"{t.counterparty} {t.description}" for t in run)):
            continue
        series.append(run)
    parties = _parties(related)
    for run in series:
        amounts = [-t.amount for t in run]
        extra = {}
        party = _party(parties, run[0]) if parties and run[0].counterparty else None
        if party is not None:  # paid to a related party: a declared lender must be that party
            extra["related_party"] = {"key": party.key, "matched_by": party.how,
                                      "names": parties.names_of.get(party.key, [])}
        flags.append(flag(
            "flow_regular_payments", counterparty=run[0].counterparty or run[0].description,
            payments=len(run), monthly=statistics.median(amounts), limit=min_payments,
            lender=_has(LENDER_WORDS, *(f"{t.counterparty} {t.description}" for t in run)),
            transactions=quote(run), **extra))
    return {"regular_payment_series": len(series)}


def _longest_regular_run(payments, gap_min, gap_max, spread_max) -> list[Transaction]:
    """The longest chain of payments each gap_min..gap_max days after the previous one, all
    within spread_max of the chain's median amount (one payment per month picked greedily)."""
    payments = sorted(payments, key=lambda t: t.date)
    best: list[Transaction] = []
    for start in range(len(payments)):
        anchor = -payments[start].amount
        run = [payments[start]]
        for t in payments[start + 1:]:
            gap = (t.date - run[-1].date).days
            if gap < gap_min:
                continue
            if gap > gap_max:
                break
            if abs(-t.amount - anchor) <= anchor * spread_max:
                run.append(t)
        if len(run) > len(best):
            best = run
    return best


def cash_flags(txns: list[Transaction], policy: Policy, flags: list[dict], *,
               cash_words=CASH_WORDS) -> dict:
    keys = ("documents.flow.cash_in_share_max", "documents.bank.large_cash_amount",
            "documents.flow.cash_just_below_band", "documents.flow.cash_just_below_count_max")
    values = [_need(policy, k, flags) for k in keys]
    if any(v is None for v in values):
        return {}
    share_max, large, band, count_max = values
    words = tuple(w.lower() for w in [*cash_words, *CASH_WORDS])
    cash = [t for t in txns if _has(words, t.description, t.channel)]
    cash_in = [t for t in cash if t.amount > 0]
    total_in = sum((t.amount for t in txns if t.amount > 0), ZERO)
    cash_total = sum((t.amount for t in cash_in), ZERO)
    share = (cash_total / total_in).quantize(Decimal("0.0001")) if total_in else ZERO
    if share > share_max:
        flags.append(flag("flow_cash_concentration", share=share, limit=share_max,
                          amount=cash_total, count=len(cash_in),
                          transactions=quote(sorted(cash_in, key=lambda t: -t.amount))))
    below = [t for t in cash_in if large * (1 - band) <= t.amount < large]
    if len(below) > count_max:
        flags.append(flag("flow_cash_below_reporting", count=len(below), limit=count_max,
                          reporting_amount=large, transactions=quote(below)))
    return {"cash_in_share": str(share), "cash_just_below_count": len(below)}


def analyse_flows(txns: list[Transaction], policy: Policy, flags: list[dict], *,
                  related: set[str] | RelatedParties = frozenset(), cash_words=()) -> dict:
    """Every flow pattern over one statement's transactions; the summary goes in the check's
    findings, the flags (with the transactions quoted) beside the other flags."""
    summary = {}
    related = _parties(related)
    summary.update(round_trip_flags(txns, policy, flags, related=related))
    summary.update(regular_payment_flags(txns, policy, flags, related=related))
    summary.update(cash_flags(txns, policy, flags, cash_words=cash_words))
    return summary
