"""Team scoping of reads and the permission rules of writes, applied by every service."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, or_, true

from aerodrome.db.resources import Resource, ScopeFor
from aerodrome.errors import Forbidden, Unauthorized
from aerodrome.identity.principal import Identity


def scope_for(identity: Identity) -> ScopeFor:
    """The WHERE clause that hides other teams' rows from `identity`, for any resource."""

    def scope(resource: Resource) -> ColumnElement[bool]:
        if identity.sees_everything or resource.team_key is None:
            return true()
        column = resource.column(resource.team_key)
        mine = column.in_(identity.team_ids) if identity.team_ids else false()
        return or_(column.is_(None), mine) if resource.public_without_team else mine

    return scope


def require_authenticated(identity: Identity) -> None:
    if not identity.is_authenticated:
        raise Unauthorized("authentication required")


def require_super_admin(identity: Identity) -> None:
    require_authenticated(identity)
    if not identity.is_super_admin:
        raise Forbidden("only super admins may do this")


def require_team_member(identity: Identity, team_id: uuid.UUID | None) -> None:
    """Writes on a team's resource: super admins, or members of that team."""
    require_authenticated(identity)
    if identity.is_super_admin:
        return
    if team_id is None or team_id not in identity.team_ids:
        raise Forbidden("you may only change resources of your own teams")


def require_user(identity: Identity) -> None:
    require_authenticated(identity)
    if identity.kind != "user":
        raise Forbidden(f"a {identity.kind} may not do this")
