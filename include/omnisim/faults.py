"""Switchable, seeded faults of the channel simulator, and what a correct pipeline does.

A fault is switched on for a channel instance (or "*"), optionally for one stream and one
page, for a number of requests (`count`) or with a probability per request (drawn from a
random stream seeded by the world's seed, so a run is repeatable).

Each fault: what the channel does → what a correct pipeline does.

- rate_limit: 429 with Retry-After and the kind's throttle state (Amazon
  x-amzn-RateLimit-Limit; Shopify a THROTTLED error with extensions.cost.throttleStatus)
  → waits as told, retries with bounded backoff, never skips the page.
- server_error: 502/503 bursts → retries with backoff, fails the batch after a bound.
- slow: answers after `seconds` (default 5, beyond a sane timeout) → times out and
  retries; never hangs.
- malformed_page: a truncated JSON body with status 200 → fails the batch naming
  channel, stream and page; a re-run loads it.
- duplicates: a page starts with the last record of the page before → collapses
  duplicates by natural key.
- updated_between_pages: a record of this page is updated right after it was served; it
  moves to the end of the sort order, so offset paging (WooCommerce) skips the record
  that moves up into the page already read and serves the updated one again; keyset
  paging (Shopify, Amazon) loses nothing and serves it again → merges by key, keeps the
  latest version, and re-reads a lookback window on the next run.
- schema_drift (`variant`: new_field, renamed_field, type_change) → tolerates a new
  field; fails clearly on a missing or retyped field (gate, quarantine), never guesses.
- bad_row (`variant`: unparseable_amount, negative_quantity, unknown_currency, null_id,
  future_date, totals_mismatch) in the page's first record → quarantines the row with
  the reason; the rest of the batch follows the data-quality rules.
- late_file (files): a day's export arrives a day late → re-reads a lookback of file
  dates.
- resent_file (files): a day's export is sent again as `..._resent.csv` → loads the
  content once.
- corrupt_file (files): a day's sales export is cut in the middle of a line →
  quarantines the file with the reason.
- deleted_refund (woocommerce; `day`, `hours`): the shop deletes the refunds made on `day`
  (the channel's local date) `hours` after each was made (WooCommerce lets a shop manager
  delete a refund; Shopify and Amazon do not, they add reversing records). A change of the
  world, not of one response: the order loses it in `refunds`, `orders/<id>/refunds` no
  longer lists it, `date_modified` moves to the deletion, and the truth follows. Undone
  when faults are cleared → marks the refund deleted in raw, and the marts stop counting it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from omnisim.catalogue import stable_hash

FAULTS = (
    "rate_limit",
    "server_error",
    "slow",
    "malformed_page",
    "duplicates",
    "updated_between_pages",
    "schema_drift",
    "bad_row",
    "late_file",
    "resent_file",
    "corrupt_file",
    "deleted_refund",
)
VARIANTS = {
    "schema_drift": ("new_field", "renamed_field", "type_change"),
    "bad_row": (
        "unparseable_amount",
        "negative_quantity",
        "unknown_currency",
        "null_id",
        "future_date",
        "totals_mismatch",
    ),
}
FILE_FAULTS = ("late_file", "resent_file", "corrupt_file")
WORLD_FAULTS = {"deleted_refund": ("woocommerce",)}  # changes of the world, and their kinds


class FaultError(ValueError):
    pass


@dataclass
class Fault:
    channel_id: str  # or "*"
    fault: str
    stream: str | None = None
    page: int | None = None
    count: int | None = None  # fire this many times, then stop (None: every time)
    probability: float = 1.0
    variant: str | None = None
    seconds: float = 5.0  # slow
    retry_after: int = 1  # rate_limit
    day: str | None = None  # file faults: the export date (YYYY-MM-DD), None: any day
    hours: float = 24.0  # deleted_refund: how long after the refund the shop deletes it
    fired: int = 0

    def __post_init__(self):
        if self.fault not in FAULTS:
            raise FaultError(f"unknown fault {self.fault!r} (known: {', '.join(FAULTS)})")
        variants = VARIANTS.get(self.fault)
        if variants:
            self.variant = self.variant or variants[0]
            if self.variant not in variants:
                raise FaultError(
                    f"fault {self.fault} has no variant {self.variant!r} "
                    f"(known: {', '.join(variants)})"
                )
        if not 0 <= self.probability <= 1:
            raise FaultError("probability must be between 0 and 1")
        if self.fault in WORLD_FAULTS and (self.day is None or self.channel_id == "*"):
            raise FaultError(f"fault {self.fault} needs a channel_id and a day (YYYY-MM-DD)")

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if v is not None}

    @classmethod
    def parse(cls, text: str) -> Fault:
        """`channel:fault[:key=value,...]`, e.g. `amazon_de:rate_limit:count=3,retry_after=2`."""
        parts = text.split(":", 2)
        if len(parts) < 2:
            raise FaultError(f"fault spec {text!r}: expected channel:fault[:key=value,...]")
        options: dict = {}
        if len(parts) == 3 and parts[2]:
            for item in parts[2].split(","):
                key, _, value = item.partition("=")
                options[key.strip()] = _value(value.strip())
        return cls(channel_id=parts[0], fault=parts[1], **options)


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


@dataclass
class FaultBook:
    """The faults switched on, and the seeded draws that decide probabilistic ones."""

    seed: int
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: dict = field(default_factory=dict)

    def add(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def listing(self) -> list[dict]:
        with self.lock:
            return [f.as_dict() for f in self.faults]

    def draw(
        self, channel_id: str, stream: str | None, page: int | None, kinds=None
    ) -> Fault | None:
        """The fault that fires for this request, if any (counts it as fired)."""
        with self.lock:
            n = self.requests.get(channel_id, 0)
            self.requests[channel_id] = n + 1
            for fault in self.faults:
                if fault.channel_id not in ("*", channel_id):
                    continue
                if kinds is not None and fault.fault not in kinds:
                    continue
                if fault.stream not in (None, stream) or fault.page not in (None, page):
                    continue
                if fault.count is not None and fault.fired >= fault.count:
                    continue
                if fault.probability < 1 and not self._chance(fault, channel_id, n):
                    continue
                fault.fired += 1
                return fault
        return None

    def _chance(self, fault: Fault, channel_id: str, n: int) -> bool:
        rng = np.random.default_rng([self.seed, 9, stable_hash(channel_id + fault.fault), n])
        return bool(rng.random() < fault.probability)


def _get(record, path):
    for key in path:
        record = record[key]
    return record


def _set(record, path, value) -> None:
    for key in path[:-1]:
        record = record[key]
    record[path[-1]] = value


def spoil(record: dict, fault: Fault, fields: dict, now) -> None:
    """Apply a bad_row or schema_drift variant to one record, in place.

    `fields` names where a kind keeps: amount, quantity, currency, id, date, total (paths of
    keys), new_field (a name) and rename (old, new)."""
    from datetime import timedelta
    from decimal import Decimal

    variant = fault.variant
    try:
        if variant == "unparseable_amount":
            _set(record, fields["amount"], "12,50")
        elif variant == "negative_quantity":
            _set(record, fields["quantity"], -abs(int(_get(record, fields["quantity"])) or 1))
        elif variant == "unknown_currency":
            _set(record, fields["currency"], "XXX")
        elif variant == "null_id":
            _set(record, fields["id"], None)
        elif variant == "future_date":
            future = (now + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
            _set(record, fields["date"], future)
        elif variant == "totals_mismatch":
            value = _get(record, fields["total"])
            bumped = Decimal(str(value)) + 10
            _set(
                record,
                fields["total"],
                f"{bumped:.2f}" if isinstance(value, str) else float(bumped),
            )
        elif variant == "new_field":
            record[fields["new_field"]] = "added by the channel"
        elif variant == "renamed_field":
            old, new = fields["rename"]
            record[new] = record.pop(old)
        elif variant == "type_change":
            _set(record, fields["amount"], float(Decimal(str(_get(record, fields["amount"])))))
    except (KeyError, IndexError, TypeError):
        pass  # the record lacks that field (not asked for): nothing to spoil
