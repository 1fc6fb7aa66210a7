"""Identity rules: teams, users, agents, tokens, and turning a credential into an `Identity`."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.crud import ResourceService
from aerodrome.db import resources as rows
from aerodrome.db.resources import (
    ListQuery,
    Page,
    Relation,
    Resource,
    Row,
    ScopeFor,
    get_row,
    insert_row,
    update_row,
)
from aerodrome.db.types import utcnow
from aerodrome.errors import InvalidInput, NotFound, Unauthorized
from aerodrome.identity import access
from aerodrome.identity.changes import KnownIdentities
from aerodrome.identity.models import (
    ADMIN_TEAM,
    ApiToken,
    Feeder,
    Membership,
    Remoteci,
    RemoteciUser,
    Team,
    User,
)
from aerodrome.identity.passwords import (
    CredentialCache,
    generate_password,
    hash_password,
    verify_password,
)
from aerodrome.identity.principal import Identity, PrincipalKind, TeamRef
from aerodrome.identity.schemas import TokenCreate

teams = Team.__table__
users = User.__table__
memberships = Membership.__table__
remotecis = Remoteci.__table__
remoteci_users = RemoteciUser.__table__
feeders = Feeder.__table__
api_tokens = ApiToken.__table__

TEAMS = Resource("team", "teams", teams, team_key="id", alternate_keys=("name",))
USERS = Resource(
    "user", "users", users, hidden=frozenset({"password_hash"}), alternate_keys=("name",)
)
_TEAM = {"team": Relation("team", "team_id", TEAMS)}
REMOTECIS = Resource(
    "remoteci",
    "remotecis",
    remotecis,
    hidden=frozenset({"api_secret"}),
    team_key="team_id",
    relations=_TEAM,
)
FEEDERS = Resource(
    "feeder",
    "feeders",
    feeders,
    hidden=frozenset({"api_secret"}),
    team_key="team_id",
    relations=_TEAM,
)
TOKEN_PREFIX = "adt_"  # noqa: S105 (a prefix, not a secret)


# --- authentication -------------------------------------------------------------------------


async def authenticate_basic(
    session: AsyncSession,
    cache: CredentialCache,
    known: KnownIdentities,
    login: str,
    password: str,
) -> Identity:
    """Name or e-mail + password. A remembered credential costs no hash, and no query while
    no identity has changed since its user was read (identity/changes.py).

    Concurrent requests with the same unverified credential (a fleet of agents after a
    restart) wait for one verification instead of each paying for a hash.
    """
    identity = await _remembered(session, cache, known, login, password)
    if identity is not None:
        return identity
    async with cache.single_flight(login, password):
        identity = await _remembered(session, cache, known, login, password)
        if identity is not None:
            return identity
        return await _verify(session, cache, known, login, password)


async def _remembered(
    session: AsyncSession, cache: CredentialCache, known: KnownIdentities, login: str, password: str
) -> Identity | None:
    remembered = cache.lookup(login, password)
    if remembered is None:
        return None
    user = known.users.get(remembered.user_id)
    if user is None:
        generation = known.changes.generation
        found = await _user_rows(session, _USER_BY_ID, user_id=remembered.user_id)
        if not found:
            return None
        user = _known_user(known, found, generation)
    # The credential verified against this hash: it is good while the user still has it.
    password_hash, identity = user
    return identity if password_hash == remembered.password_hash else None


async def _verify(
    session: AsyncSession, cache: CredentialCache, known: KnownIdentities, login: str, password: str
) -> Identity:
    generation = known.changes.generation
    chosen = await _login_rows(session, login)
    if not chosen or not await verify_password(chosen[0]["password_hash"], password):
        raise Unauthorized("invalid credentials")
    cache.remember(login, password, chosen[0]["id"], chosen[0]["password_hash"])
    return _known_user(known, chosen, generation)[1]


def _known_user(
    known: KnownIdentities, found: Sequence[RowMapping], generation: int | None
) -> tuple[str, Identity]:
    user = (str(found[0]["password_hash"]), _user_identity(found))
    known.users.put(found[0]["id"], user, generation)
    return user


async def authenticate_token(session: AsyncSession, token: str) -> Identity:
    """A bearer API token: looked up by its SHA-256, refused when revoked or expired."""
    now = utcnow()
    token_user = (
        select(api_tokens.c.user_id)
        .where(
            api_tokens.c.token_hash == _token_hash(token),
            api_tokens.c.revoked_at.is_(None),
            or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
        )
        .scalar_subquery()
    )
    found = await _user_rows(session, _user_select(users.c.id == token_user))
    if not found:
        raise Unauthorized("invalid or expired token")
    return _user_identity(found)


def _agent_by_id(table: Table) -> Select[Any]:
    return (
        select(
            table.c.id,
            table.c.name,
            table.c.api_secret,
            teams.c.id.label("tid"),
            teams.c.name.label("tname"),
        )
        .join(teams, teams.c.id == table.c.team_id)
        .where(
            table.c.id == bindparam("agent_id"),
            table.c.state == "active",
            teams.c.state == "active",
        )
    )


# Built once: every signed request (each agent's every call) runs one of them.
_AGENT_BY_ID = {"remoteci": _agent_by_id(remotecis), "feeder": _agent_by_id(feeders)}


async def load_agent(
    session: AsyncSession, known: KnownIdentities, kind: str, agent_id: uuid.UUID
) -> tuple[Identity, str]:
    """The identity and API secret of an active remoteci or feeder (for signature checks)."""
    agent_kind: PrincipalKind = "remoteci" if kind == "remoteci" else "feeder"
    agent = known.agents.get((agent_kind, agent_id))
    if agent is not None:
        return agent
    generation = known.changes.generation
    statement = _AGENT_BY_ID[agent_kind]
    row = (await session.execute(statement, {"agent_id": agent_id})).mappings().first()
    if row is None:
        raise Unauthorized(f"unknown or inactive {agent_kind}")
    identity = Identity(
        kind=agent_kind,
        id=row["id"],
        name=row["name"],
        teams=(TeamRef(row["tid"], row["tname"]),),
    )
    agent = (identity, str(row["api_secret"]))
    known.agents.put((agent_kind, agent_id), agent, generation)
    return agent


def _user_select(condition: ColumnElement[bool]) -> Select[Any]:
    membership_join = and_(teams.c.id == memberships.c.team_id, teams.c.state == "active")
    return (
        select(
            users.c.id,
            users.c.name,
            users.c.email,
            users.c.password_hash,
            teams.c.id.label("team_id"),
            teams.c.name.label("team_name"),
            teams.c.reads_all,
        )
        .select_from(users.outerjoin(memberships, memberships.c.user_id == users.c.id))
        .outerjoin(teams, membership_join)
        .where(condition, users.c.state == "active")
    )


# Built once: these run on every authenticated request.
_USER_BY_ID = _user_select(users.c.id == bindparam("user_id"))
_USER_BY_LOGIN = _user_select(
    or_(users.c.name == bindparam("login"), users.c.email == bindparam("login"))
)


async def _user_rows(
    session: AsyncSession, statement: Select[Any], **params: Any
) -> list[RowMapping]:
    connection = await session.connection()  # Core: this runs on every request
    return list((await connection.execute(statement, params)).mappings())


def _user_identity(found: Sequence[RowMapping]) -> Identity:
    first = found[0]
    team_rows = [r for r in found if r["team_id"] is not None]
    return Identity(
        kind="user",
        id=first["id"],
        name=first["name"],
        email=first["email"],
        teams=tuple(TeamRef(r["team_id"], r["team_name"]) for r in team_rows),
        is_super_admin=any(r["team_name"] == ADMIN_TEAM for r in team_rows),
        reads_all=any(r["reads_all"] for r in team_rows),
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- first start ------------------------------------------------------------------------------


async def ensure_admin(session: AsyncSession, password: str | None) -> str | None:
    """On an empty database create team `admin` and user `admin`.

    Returns the password when it was generated here (to be shown once), else None.
    """
    if (await session.execute(select(func.count()).select_from(users))).scalar_one():
        return None
    generated = None if password else generate_password()
    now = utcnow()
    team_id, user_id = uuid.uuid4(), uuid.uuid4()
    await session.execute(
        insert(teams).values(
            id=team_id, name=ADMIN_TEAM, created_at=now, updated_at=now, etag=uuid.uuid4().hex
        )
    )
    password_hash = await anyio.to_thread.run_sync(hash_password, password or generated or "")
    await session.execute(
        insert(users).values(
            id=user_id,
            name="admin",
            email=None,
            fullname="Administrator",
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
            etag=uuid.uuid4().hex,
        )
    )
    await session.execute(insert(memberships).values(user_id=user_id, team_id=team_id))
    return generated


# --- tokens ----------------------------------------------------------------------------------


async def create_token(
    session: AsyncSession, user_id: uuid.UUID, data: TokenCreate
) -> tuple[Row, str]:
    """A new bearer token for `user_id`; the token itself is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(days=data.expires_in_days) if data.expires_in_days else None
    row: Row = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "name": data.name,
        "created_at": now,
        "expires_at": expires,
        "revoked_at": None,
    }
    await session.execute(insert(api_tokens).values(**row, token_hash=_token_hash(token)))
    return row, token


async def list_tokens(session: AsyncSession, user_id: uuid.UUID) -> list[Row]:
    columns = [c for c in api_tokens.c if c.name != "token_hash"]
    stmt = select(*columns).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.created_at)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def revoke_token(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> None:
    stmt = (
        api_tokens.update()
        .where(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)
        .values(revoked_at=utcnow())
    )
    if not (await session.execute(stmt)).rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"token {token_id} not found")


async def find_user(session: AsyncSession, login: str) -> Row:
    """The active user a login (name or e-mail) designates, as authentication resolves it."""
    chosen = await _login_rows(session, login)
    if not chosen:
        raise NotFound(f"user {login} not found")
    return {"id": chosen[0]["id"], "name": chosen[0]["name"], "email": chosen[0]["email"]}


async def _login_rows(session: AsyncSession, login: str) -> list[RowMapping]:
    """The rows (one per team) of the active user named `login`, or whose e-mail it is."""
    found = await _user_rows(session, _USER_BY_LOGIN, login=login)
    # A login that is one user's name and another's e-mail means the name.
    by_name = [r for r in found if r["name"] == login] or found
    return [r for r in by_name if r["id"] == by_name[0]["id"]]


# --- resources -------------------------------------------------------------------------------


class TeamService(ResourceService):
    """Teams are created and changed by super admins; members see their own teams."""


class UserService(ResourceService):
    """Users see themselves and the members of their teams; super admins manage everyone."""

    def scope(self, identity: Identity) -> ScopeFor:
        def visible(resource: Resource) -> ColumnElement[bool]:
            if identity.sees_everything:
                return true()
            teammates = select(memberships.c.user_id).where(
                memberships.c.team_id.in_(identity.team_ids)
            )
            return or_(users.c.id == identity.id, users.c.id.in_(teammates))

        return visible

    async def create(self, session: AsyncSession, identity: Identity, data: Any) -> Row:
        values = data.model_dump(exclude_unset=True)
        team_ids = values.pop("team_ids", [])
        access.require_super_admin(identity)
        values["password_hash"] = await anyio.to_thread.run_sync(
            hash_password, values.pop("password")
        )
        row = await insert_row(session, USERS, values)
        await _set_memberships(session, row["id"], team_ids)
        return row

    async def update(
        self, session: AsyncSession, identity: Identity, key: str, *, if_match: str, data: Any
    ) -> Row:
        values = data.model_dump(exclude_unset=True)
        current = await self.get(session, identity, key)
        self._check_self_service(identity, current["id"], values)
        team_ids = values.pop("team_ids", None)
        if "password" in values:
            values["password_hash"] = await anyio.to_thread.run_sync(
                hash_password, values.pop("password")
            )
        row = await update_row(session, USERS, current["id"], if_match=if_match, values=values)
        if team_ids is not None:
            await _set_memberships(session, row["id"], team_ids)
        return row

    @staticmethod
    def _check_self_service(
        identity: Identity, user_id: uuid.UUID, values: Mapping[str, Any]
    ) -> None:
        # A user may change their own profile and password; teams and state are admin business.
        if identity.is_super_admin:
            return
        access.require_user(identity)
        if user_id != identity.id or {"team_ids", "state", "name"} & set(values):
            access.require_super_admin(identity)


async def _set_memberships(
    session: AsyncSession, user_id: uuid.UUID, team_ids: list[uuid.UUID]
) -> None:
    wanted = set(team_ids)
    if wanted:
        known = set(
            (await session.execute(select(teams.c.id).where(teams.c.id.in_(wanted)))).scalars()
        )
        missing = sorted(str(t) for t in wanted - known)
        if missing:
            raise InvalidInput(
                f"unknown team_ids: {', '.join(missing)}", payload={"team_ids": missing}
            )
    await session.execute(delete(memberships).where(memberships.c.user_id == user_id))
    if wanted:
        await session.execute(
            insert(memberships), [{"user_id": user_id, "team_id": t} for t in wanted]
        )


class AgentService(ResourceService):
    """Remotecis and feeders: created by their team's members, who alone see the API secret."""

    async def check_write(
        self, session: AsyncSession, identity: Identity, row: Mapping[str, Any]
    ) -> None:
        access.require_user(identity)
        access.require_team_member(identity, row.get("team_id"))

    async def prepare_create(
        self, session: AsyncSession, identity: Identity, values: dict[str, Any]
    ) -> dict[str, Any]:
        await get_row(session, TEAMS, values["team_id"], access.scope_for(identity))
        return {**values, "api_secret": _new_secret()}

    async def prepare_update(
        self,
        session: AsyncSession,
        identity: Identity,
        current: Mapping[str, Any],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        if values.get("team_id") not in (None, current["team_id"]):
            await get_row(session, TEAMS, values["team_id"], access.scope_for(identity))
        return values

    async def create(self, session: AsyncSession, identity: Identity, data: Any) -> Row:
        row = await super().create(session, identity, data)
        return await self._with_secret(session, identity, row)

    async def get(
        self,
        session: AsyncSession,
        identity: Identity,
        key: str | uuid.UUID,
        *,
        embeds: Sequence[str] = (),
    ) -> Row:
        row = await super().get(session, identity, key, embeds=embeds)
        return await self._with_secret(session, identity, row)

    async def reset_secret(
        self, session: AsyncSession, identity: Identity, key: str, *, if_match: str
    ) -> Row:
        """A new API secret; requests signed with the old one stop working at once."""
        current = await self.get(session, identity, key)
        await self.check_write(session, identity, current)
        row = await update_row(
            session,
            self.resource,
            current["id"],
            if_match=if_match,
            values={"api_secret": _new_secret()},
        )
        return await self._with_secret(session, identity, row)

    async def _with_secret(self, session: AsyncSession, identity: Identity, row: Row) -> Row:
        if identity.is_super_admin or row["team_id"] in identity.team_ids:
            table = self.resource.table
            stmt = select(table.c.api_secret).where(table.c.id == row["id"])
            row["api_secret"] = (await session.execute(stmt)).scalar_one()
        return row


class RemoteciService(AgentService):
    """Remotecis also keep their `data` readable on its own, and a list of attached users."""

    async def get_data(
        self, session: AsyncSession, identity: Identity, key: str, keys: Sequence[str] | None
    ) -> dict[str, Any]:
        """The remoteci's `data`, or only its top-level `keys` that exist."""
        data: dict[str, Any] = (await self.get(session, identity, key))["data"]
        return data if keys is None else {k: data[k] for k in keys if k in data}

    async def list_users(
        self, session: AsyncSession, identity: Identity, key: str, query: ListQuery
    ) -> Page:
        """The attached users the caller may see."""
        remoteci = await self.get(session, identity, key)
        attached = select(remoteci_users.c.user_id).where(
            remoteci_users.c.remoteci_id == remoteci["id"]
        )
        scoped = dataclasses.replace(query, filters=(*query.filters, users.c.id.in_(attached)))
        return await rows.list_rows(session, USERS, scoped, user_service.scope(identity))

    async def add_user(
        self, session: AsyncSession, identity: Identity, key: str, user_id: uuid.UUID
    ) -> Row:
        """Attach a user the caller may see; only the remoteci's team members may attach."""
        remoteci = await self.get(session, identity, key)
        await self.check_write(session, identity, remoteci)
        try:
            user = await user_service.get(session, identity, user_id)
        except NotFound:
            raise InvalidInput(
                f"unknown user_id {user_id}", payload={"user_id": str(user_id)}
            ) from None
        link = {"remoteci_id": remoteci["id"], "user_id": user["id"]}
        duplicate = f"user {user_id} is already attached to this remoteci"
        await rows.add_link(session, remoteci_users, link, duplicate=duplicate)
        return link

    async def remove_user(
        self, session: AsyncSession, identity: Identity, key: str, user_id: uuid.UUID
    ) -> None:
        remoteci = await self.get(session, identity, key)
        await self.check_write(session, identity, remoteci)
        link = {"remoteci_id": remoteci["id"], "user_id": user_id}
        missing = f"user {user_id} is not attached to this remoteci"
        await rows.remove_link(session, remoteci_users, link, missing=missing)


def _new_secret() -> str:
    return secrets.token_urlsafe(48)


team_service = TeamService(TEAMS)
user_service = UserService(USERS)
remoteci_service = RemoteciService(REMOTECIS)
feeder_service = AgentService(FEEDERS)
