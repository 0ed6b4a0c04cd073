"""A customer's own profile, password and address book.

Every query is scoped to the calling customer: another customer's address is
NOT_FOUND, exactly like one that does not exist. Writes lock the customer's row
first, so concurrent changes to one address book (the default flag) serialize on
PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import Mapping

from mesh.db import Database, on_conflict
from mesh.errors import InvalidArgument, NotFound, Violations
from mesh.india import POSTAL_FIELDS, PostalAddress, validate_delivery_address
from mesh.resources import check_update_mask, parse_name
from services.auth import passwords
from services.auth.domain import accounts
from services.auth.handlers.auth import account_exists
from services.auth.handlers.common import Caller, Clock, audit
from services.auth.models import Address, User
from services.auth.repository import Repos, unit_of_work

PROFILE_FIELDS = frozenset({"full_name", "email", "phone"})
ADDRESS_FIELDS = frozenset({"label", "postal_address"})


def _apply_postal(address: Address, p: PostalAddress) -> None:
    for field in POSTAL_FIELDS:
        setattr(address, field, getattr(p, field))


def expand_address_paths(paths: list[str]) -> tuple[set[str], set[str], list[str]]:
    """Split an Address update mask into (top-level fields, postal sub-fields, bad paths)."""
    top: set[str] = set()
    postal: set[str] = set()
    bad: list[str] = []
    for path in paths:
        if path in ADDRESS_FIELDS:
            top.add(path)
            if path == "postal_address":
                postal |= POSTAL_FIELDS
        elif path.startswith("postal_address.") and path[15:] in POSTAL_FIELDS:
            postal.add(path[15:])
        else:
            bad.append(path)
    return top, postal, bad


class AccountHandlers:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def _user(self, r: Repos, caller: Caller, *, for_update: bool = False) -> User:
        user = await r.users.get(caller.identity.subject_id, for_update=for_update)
        if user is None:
            raise NotFound("account not found")
        return user

    async def get_profile(self, caller: Caller) -> User:
        async with unit_of_work(self.db, write=False) as r:
            return await self._user(r, caller)

    async def update_profile(
        self, caller: Caller, *, values: Mapping[str, str], paths: list[str]
    ) -> User:
        """Change the fields in `paths` (empty: every updatable field with a value)."""
        v = Violations()
        if paths:
            check_update_mask(paths, PROFILE_FIELDS, v)
        else:
            paths = [f for f in sorted(PROFILE_FIELDS) if values.get(f)]
            if not paths:
                v.add("user", "nothing to update")
        v.raise_if_any()
        fields = set(paths)
        new: dict[str, str] = {}
        if "full_name" in fields:
            new["full_name"] = accounts.validate_full_name(
                values.get("full_name", ""), v, "user.full_name"
            )
        if "email" in fields:
            new["email"] = accounts.validate_email(values.get("email", ""), v, "user.email")
        if "phone" in fields:
            raw = values.get("phone", "")
            if not raw:
                v.add("user.phone", "is required")
            else:
                new["phone"] = accounts.validate_phone(raw, v, "user.phone")
        v.raise_if_any()
        now = self.clock()
        with on_conflict(account_exists("email or phone")):
            async with unit_of_work(self.db) as r:
                user = await self._user(r, caller, for_update=True)
                changed: list[str] = []
                if "full_name" in new and new["full_name"] != user.full_name:
                    user.full_name = new["full_name"]
                    changed.append("full_name")
                if "email" in new and new["email"] != user.email:
                    key = accounts.normalize_email(new["email"])
                    if key != user.email_key and await r.users.email_taken(key, other_than=user.id):
                        raise account_exists("email")
                    if key != user.email_key:
                        user.email_verified = False
                    user.email, user.email_key = new["email"], key
                    changed.append("email")
                if "phone" in new and new["phone"] != user.phone:
                    if await r.users.phone_taken(new["phone"], other_than=user.id):
                        raise account_exists("phone")
                    user.phone = new["phone"]
                    user.phone_verified = False
                    changed.append("phone")
                if changed:
                    user.update_time = now
                    audit(
                        r,
                        caller,
                        "account.profile_updated",
                        target=user.name,
                        details={"fields": ",".join(changed)},
                        now=now,
                    )
        return user

    async def change_password(
        self, caller: Caller, *, current_password: str, new_password: str
    ) -> None:
        v = Violations()
        accounts.validate_password(new_password, v, "new_password")
        v.raise_if_any()
        async with unit_of_work(self.db, write=False) as r:
            user = await self._user(r, caller)
        if user.password_hash is not None:
            if not current_password:
                raise InvalidArgument({"current_password": "is required"})
            if not await passwords.verify_password(user.password_hash, current_password):
                raise InvalidArgument({"current_password": "is incorrect"})
        new_hash = await passwords.hash_password(new_password)
        now = self.clock()
        keep = parse_name(caller.identity.session, "sessions") or ""
        async with unit_of_work(self.db) as r:
            user = await self._user(r, caller, for_update=True)
            user.password_hash = new_hash
            user.update_time = now
            revoked = await r.sessions.revoke_all(user.name, now, "password_changed", keep=keep)
            audit(
                r,
                caller,
                "account.password_changed",
                target=user.name,
                details={"sessions_revoked": revoked},
                now=now,
            )

    # --- addresses -----------------------------------------------------------------

    async def list_addresses(
        self, caller: Caller, *, after: str | None, limit: int
    ) -> list[Address]:
        async with unit_of_work(self.db, write=False) as r:
            return await r.addresses.list(caller.identity.subject_id, after, limit)

    @staticmethod
    def _address_id(name: str, field: str = "name") -> str:
        aid = parse_name(name, "addresses")
        if aid is None:
            raise InvalidArgument({field: "must look like addresses/{address_id}"})
        return aid

    async def _owned(self, r: Repos, caller: Caller, name: str, field: str = "name") -> Address:
        address = await r.addresses.get(caller.identity.subject_id, self._address_id(name, field))
        if address is None:
            raise NotFound(f"{name} not found")
        return address

    async def get_address(self, caller: Caller, *, name: str) -> Address:
        async with unit_of_work(self.db, write=False) as r:
            return await self._owned(r, caller, name)

    async def get_user_address(self, *, name: str) -> Address:
        """A customer's address by its full name, "users/{user_id}/addresses/{id}", for
        an internal caller acting for that customer (order, at checkout). Missing or
        another customer's: NOT_FOUND, as for the customer's own GetAddress."""
        user, sep, rest = name.partition("/addresses/")
        uid = parse_name(user, "users")
        aid = parse_name(f"addresses/{rest}", "addresses") if sep else None
        if uid is None or aid is None:
            raise InvalidArgument({"name": "must look like users/{user_id}/addresses/{address_id}"})
        async with unit_of_work(self.db, write=False) as r:
            address = await r.addresses.get(uid, aid)
        if address is None:
            raise NotFound(f"{name} not found")
        return address

    async def create_address(self, caller: Caller, *, label: str, postal: PostalAddress) -> Address:
        v = Violations()
        label = accounts.validate_label(label, v, "address.label")
        postal = validate_delivery_address(postal, v, "address.postal_address.")
        v.raise_if_any()
        now = self.clock()
        async with unit_of_work(self.db) as r:
            user = await self._user(r, caller, for_update=True)
            first = await r.addresses.count(user.id) == 0
            address = Address(
                user_id=user.id, label=label, is_default=first, create_time=now, update_time=now
            )
            _apply_postal(address, postal)
            r.addresses.add(address)
        return address

    async def update_address(
        self,
        caller: Caller,
        *,
        name: str,
        label: str,
        postal: PostalAddress,
        postal_set: bool,
        paths: list[str],
    ) -> Address:
        v = Violations()
        aid = self._address_id(name, "address.name")
        if paths:
            top, postal_paths, bad = expand_address_paths(paths)
            for path in bad:
                v.add("update_mask", f"cannot update {path!r}; updatable: label, postal_address")
        else:
            top = {"label"} if label else set()
            postal_paths = set(POSTAL_FIELDS) if postal_set else set()
            if not top and not postal_paths:
                v.add("address", "nothing to update")
        if "label" in top:
            label = accounts.validate_label(label, v, "address.label")
        v.raise_if_any()
        now = self.clock()
        async with unit_of_work(self.db) as r:
            await self._user(r, caller, for_update=True)
            address = await r.addresses.get(caller.identity.subject_id, aid)
            if address is None:
                raise NotFound(f"{name} not found")
            if postal_paths:
                merged = PostalAddress.of(address).merged(postal, postal_paths)
                merged = validate_delivery_address(merged, v, "address.postal_address.")
                v.raise_if_any()
                _apply_postal(address, merged)
            if "label" in top:
                address.label = label
            address.update_time = now
        return address

    async def delete_address(self, caller: Caller, *, name: str) -> None:
        async with unit_of_work(self.db) as r:
            user = await self._user(r, caller, for_update=True)
            address = await self._owned(r, caller, name)
            was_default = address.is_default
            await r.addresses.delete(address)
            if was_default:
                successor = await r.addresses.newest(user.id)
                if successor is not None:
                    successor.is_default = True
                    successor.update_time = self.clock()

    async def set_default_address(self, caller: Caller, *, name: str) -> Address:
        now = self.clock()
        async with unit_of_work(self.db) as r:
            user = await self._user(r, caller, for_update=True)
            address = await self._owned(r, caller, name)
            if not address.is_default:
                await r.addresses.clear_default(user.id)
                address.is_default = True
                address.update_time = now
        return address
