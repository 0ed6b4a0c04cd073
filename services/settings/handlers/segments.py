"""Customer segments: admin CRUD, customer tags, evaluation, and order-event facts."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mesh.db import Database, on_conflict
from mesh.errors import AlreadyExists, InvalidArgument, NotFound, Violations
from mesh.india import normalize_state_code
from services.settings import repository as repo
from services.settings.domain import segments as seg
from services.settings.handlers.common import SEGMENTS, Changes, Clock, check_mask
from services.settings.models import CustomerProfile, CustomerSegment

_SEGMENT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{1,39}")
_TAG = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
SEGMENT_MASK = ("display_name", "description", "rules")
MAX_TAGS = 20

# users/{id} -> signup time (None: no such user). Backed by auth's BatchGetUsers.
SignupLookup = Callable[[str], Awaitable[datetime | None]]


@dataclass(frozen=True)
class SegmentValues:
    display_name: str = ""
    description: str = ""
    rules: seg.Rules = field(default_factory=seg.Rules)


@dataclass(frozen=True)
class OrderFacts:
    """What an order event tells segments (order.placed: the order total;
    order.refunded: the amount refunded)."""

    user_id: str
    order_id: str
    amount_minor: int
    state_code: str = ""
    city: str = ""


def rules_problems(r: seg.Rules, p: str) -> list[tuple[str, str]]:
    v: list[tuple[str, str]] = []
    for name in ("min_total_spend", "max_total_spend"):
        val = getattr(r, name + "_minor")
        if val is not None and val < 0:
            v.append((f"{p}{name}", "must not be negative"))
    for name in ("min_order_count", "max_order_count", "signed_up_within_days"):
        val = getattr(r, name)
        if val is not None and val < 0:
            v.append((f"{p}{name}", "must not be negative"))
    for i, code in enumerate(r.state_codes):
        if normalize_state_code(code) != code:
            v.append((f"{p}state_codes[{i}]", "is not a state/UT code"))
    for name in ("any_tags", "all_tags"):
        for i, t in enumerate(getattr(r, name)):
            if not _TAG.fullmatch(t):
                v.append((f"{p}{name}[{i}]", "lower-case letters, digits, - and _"))
    return v


def values_problems(val: SegmentValues, p: str = "customer_segment.") -> list[tuple[str, str]]:
    v: list[tuple[str, str]] = []
    if not val.display_name.strip() or len(val.display_name) > 100:
        v.append((p + "display_name", "is required, at most 100 characters"))
    if len(val.description) > 500:
        v.append((p + "description", "must be at most 500 characters"))
    return v + rules_problems(val.rules, p + "rules.")


def normalize_rules(r: seg.Rules) -> seg.Rules:
    return replace(
        r,
        state_codes=tuple(normalize_state_code(c) or c.upper() for c in r.state_codes),
        cities=tuple(c.strip() for c in r.cities if c.strip()),
        any_tags=tuple(t.strip().lower() for t in r.any_tags),
        all_tags=tuple(t.strip().lower() for t in r.all_tags),
    )


class SegmentHandlers:
    def __init__(self, db: Database, changes: Changes, signups: SignupLookup, clock: Clock) -> None:
        self.db = db
        self.changes = changes
        self.signups = signups
        self.clock = clock

    async def create(self, segment_id: str, values: SegmentValues) -> CustomerSegment:
        values = replace(values, rules=normalize_rules(values.rules))
        v = Violations()
        v.check(
            bool(_SEGMENT_ID.fullmatch(segment_id)), "customer_segment_id", "2-40 of a-z 0-9 - _"
        )
        v.items.extend(values_problems(values))
        v.raise_if_any()
        now = self.clock()
        row = CustomerSegment(
            id=segment_id,
            display_name=values.display_name.strip(),
            description=values.description.strip(),
            rules=values.rules.to_json(),
            create_time=now,
            update_time=now,
        )
        with on_conflict(AlreadyExists(f"customerSegments/{segment_id} already exists")):
            async with self.db.transaction() as s:
                if await s.get(CustomerSegment, segment_id) is not None:
                    raise AlreadyExists(f"customerSegments/{segment_id} already exists")
                s.add(row)
                await self.changes.record(s, SEGMENTS)
        return row

    async def get(self, segment_id: str) -> CustomerSegment:
        async with self.db.session() as s:
            row = await s.get(CustomerSegment, segment_id)
        if row is None:
            raise NotFound(f"customerSegments/{segment_id} does not exist")
        return row

    async def list(self, after: str, limit: int) -> list[CustomerSegment]:
        async with self.db.session() as s:
            return await repo.segments(s, after=after, limit=limit)

    async def update(
        self, segment_id: str, values: SegmentValues, paths: list[str]
    ) -> CustomerSegment:
        check_mask(paths, SEGMENT_MASK)
        async with self.db.transaction() as s:
            row = await s.get(CustomerSegment, segment_id, with_for_update=True)
            if row is None:
                raise NotFound(f"customerSegments/{segment_id} does not exist")
            cur = SegmentValues(row.display_name, row.description, seg.Rules.from_json(row.rules))
            new = replace(cur, **{p: getattr(values, p) for p in paths})
            new = replace(new, rules=normalize_rules(new.rules))
            problems = values_problems(new)
            if problems:
                raise InvalidArgument(problems)
            row.display_name = new.display_name.strip()
            row.description = new.description.strip()
            row.rules = new.rules.to_json()
            row.update_time = self.clock()
            await self.changes.record(s, SEGMENTS)
        return row

    async def delete(self, segment_id: str) -> None:
        async with self.db.transaction() as s:
            row = await s.get(CustomerSegment, segment_id)
            if row is None:
                raise NotFound(f"customerSegments/{segment_id} does not exist")
            await s.delete(row)
            await self.changes.record(s, SEGMENTS)

    # --- customer facts --------------------------------------------------------------

    async def profile(self, user_id: str) -> CustomerProfile:
        async with self.db.session() as s:
            row = await repo.profile(s, user_id)
        return row or CustomerProfile(
            user_id=user_id, total_spend_minor=0, order_count=0, state_code="", city="", tags=[]
        )

    async def set_tags(self, user_id: str, tags: Sequence[str]) -> CustomerProfile:
        clean = sorted({t.strip().lower() for t in tags})
        v = Violations()
        v.check(len(clean) <= MAX_TAGS, "tags", f"at most {MAX_TAGS}")
        for i, t in enumerate(tags):
            v.check(bool(_TAG.fullmatch(t.strip().lower())), f"tags[{i}]", "a-z 0-9 - _, <= 32")
        v.raise_if_any()
        if await self.signups(f"users/{user_id}") is None:
            raise NotFound(f"users/{user_id} does not exist")
        async with self.db.transaction() as s:
            row = await self._profile_for_update(s, user_id)
            row.tags = clean
            row.update_time = self.clock()
        return row

    async def _profile_for_update(self, s: AsyncSession, user_id: str) -> CustomerProfile:
        row = await repo.profile(s, user_id, lock=True)
        if row is None:
            row = CustomerProfile(
                user_id=user_id, total_spend_minor=0, order_count=0, state_code="", city="", tags=[]
            )
            s.add(row)
        return row

    async def apply_order(self, s: AsyncSession, facts: OrderFacts, *, refund: bool) -> None:
        """Fold an order event into the customer's figures (inside the sink's transaction)."""
        row = await self._profile_for_update(s, facts.user_id)
        if refund:
            row.total_spend_minor = max(0, row.total_spend_minor - facts.amount_minor)
        else:
            row.total_spend_minor += facts.amount_minor
            row.order_count += 1
            state = normalize_state_code(facts.state_code)
            if state:
                row.state_code = state
            if facts.city.strip():
                row.city = facts.city.strip()
        row.update_time = self.clock()

    # --- evaluation ------------------------------------------------------------------

    async def evaluate(self, user: str, names: Sequence[str]) -> list[str]:
        user_id = user.removeprefix("users/")
        if not user.startswith("users/") or not user_id:
            raise InvalidArgument({"user": "must be users/{user_id}"})
        ids = [n.removeprefix("customerSegments/") for n in names] if names else None
        async with self.db.session() as s:
            rows = await repo.segments(s, ids=ids)
            prof = await repo.profile(s, user_id)
        parsed = [(r, seg.Rules.from_json(r.rules)) for r in rows]
        signup = None
        if any(rules.needs_signup_date for _, rules in parsed):
            signup = await self.signups(user)
        facts = seg.CustomerFacts(
            total_spend_minor=prof.total_spend_minor if prof else 0,
            order_count=prof.order_count if prof else 0,
            state_code=prof.state_code if prof else "",
            city=prof.city if prof else "",
            tags=frozenset(prof.tags if prof else ()),
            signup_time=signup,
        )
        now = self.clock()
        return sorted(r.name for r, rules in parsed if seg.matches(rules, facts, now))


def rules_from_json(data: dict[str, Any]) -> seg.Rules:
    return seg.Rules.from_json(data)
