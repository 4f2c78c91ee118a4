"""A party's name reduced to what identifies it, so a statement's counterparty, a declared
lender and a related party from the party graph compare alike whatever the place prefix, legal
form or punctuation: 深圳市华达贸易有限公司 → 华达贸易; "Acme Trading Co., Ltd." → acmetrading."""

import re
from dataclasses import dataclass

_PLACE = re.compile(r"^(?:[\u4e00-\u9fff]{2,3}(?:省|市|自治区|区|县))+")
_LEGAL = re.compile(
    r"(有限责任公司|股份有限公司|有限公司|集团|分公司|公司|商行|经营部|工作室|"
    r"\b(?:co|company|ltd|limited|inc|llc|corp|corporation|group|plc)\b\.?)",
    re.IGNORECASE)
_PUNCT = re.compile(r"[\s\.,()（）·\-_&]+")


def core_name(name: str | None) -> str:
    text = _LEGAL.sub("", _PLACE.sub("", str(name or "").strip()))
    return _PUNCT.sub("", text).lower()


# --- parties by identity (issue 19) --------------------------------------------------------------

_USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")


def full_name(name: str | None) -> str:
    """A name compared whole: without spaces, punctuation or case, but with its place and
    legal form (深圳市华达贸易有限公司 and 华达贸易有限公司 are two registrations)."""
    text = str(name or "").strip().lower().replace("（", "(").replace("）", ")")
    return re.sub(r"[\s\.,()·\-_&'\"]+", "", text)


def account_key(value: str | None) -> str:
    return re.sub(r"[^0-9a-z]", "", str(value or "").lower())


@dataclass(frozen=True)
class PartyIdentity:
    """A party of the borrower's graph as the statement check knows it: who (`key`, e.g.
    "enterprise:12"), its registered name, USCC, the other names and the bank accounts the
    bank has on file for it."""

    key: str
    kind: str                      # "enterprise" | "person"
    name: str
    uscc: str = ""
    aliases: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    key: str
    how: str  # "account" | "uscc" | "registered_name" | "alias" | "text"

    @property
    def by_identity(self) -> bool:
        return self.how != "text"


class RelatedParties:
    """Matches a statement's counterparty (name, account, narrative) to the parties related to
    the borrower. By identity first: a bank account on file, the party's USCC in the text, an
    enterprise's full registered name or a name the bank recorded for it. Names reduced to
    their core (place and legal form stripped) are only a fallback, marked `how="text"`, and
    never override an identity: a counterparty whose account is on file for nobody related,
    while the same-named related party has accounts on file, is not that party. A person is
    never identified by name alone (names repeat: 张伟 is not the controller 张伟)."""

    def __init__(self, identities=(), names=()):
        self.identities = list(identities)
        self.by_account: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        self.by_uscc: dict[str, str] = {}
        self.by_core: dict[str, str] = {}
        self.with_accounts: set[str] = set()
        self.names_of: dict[str, list[str]] = {}
        for party in self.identities:
            self.names_of[party.key] = [party.name, *party.aliases]
            for account in party.accounts:
                if account_key(account):
                    self.by_account[account_key(account)] = party.key
                    self.with_accounts.add(party.key)
            if party.uscc:
                self.by_uscc[party.uscc.upper()] = party.key
            if party.kind == "enterprise":
                for name, how in ((party.name, "registered_name"),
                                  *((a, "alias") for a in party.aliases)):
                    if full_name(name):
                        self.by_name.setdefault(full_name(name), (party.key, how))
            for name in (party.name, *party.aliases):
                if core_name(name):
                    self.by_core.setdefault(core_name(name), party.key)
        # Declared in the document's metadata: text only, each its own party.
        for name in names:
            if core_name(name):
                self.by_core.setdefault(core_name(name), f"declared:{core_name(name)}")
        self._cache: dict[tuple[str, str, str], Match | None] = {}

    def __bool__(self) -> bool:
        return bool(self.by_core)

    def cores(self) -> set[str]:
        return set(self.by_core)

    def match(self, counterparty: str, account: str = "", text: str = "") -> Match | None:
        key = (counterparty, account, text)
        if key not in self._cache:
            self._cache[key] = self._match(counterparty, account, text)
        return self._cache[key]

    def _match(self, counterparty: str, account: str, text: str) -> Match | None:
        account = account_key(account)
        if account and account in self.by_account:
            return Match(self.by_account[account], "account")
        for code in _USCC.findall(f"{counterparty} {text}".upper()):
            if code in self.by_uscc:
                return Match(self.by_uscc[code], "uscc")
        named = self.by_name.get(full_name(counterparty))
        if named is not None:
            return Match(*named)
        core = core_name(counterparty)
        party = self.by_core.get(core) if core else None
        if party is None:
            return None
        if account and party in self.with_accounts:
            return None  # its accounts are on file and this is not one of them
        return Match(party, "text")
