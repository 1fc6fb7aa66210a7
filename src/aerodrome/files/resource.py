"""Files as the API exposes them, and who may see which.

Kept apart from the service so that other domains (jobs embedding their files) can name the
resource without importing the files service and its dependencies.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, literal_column, or_

from aerodrome.db.resources import Relation, Resource, ScopeFor
from aerodrome.files.models import PUBLIC, File
from aerodrome.identity import access
from aerodrome.identity import service as identity_service
from aerodrome.identity.principal import Identity

FILES = Resource(
    "file",
    "files",
    File.__table__,
    hidden=frozenset({"storage_key"}),
    team_key="team_id",
    relations={"team": Relation("team", "team_id", identity_service.TEAMS)},
)


def file_scope(identity: Identity) -> ScopeFor:
    """The team scoping of every resource, plus: the files of public components are public.

    Other domains' embeds use the plain team scope, which shows a team's files to that team
    only (a job's files always carry the job's team).
    """
    team_scope = access.scope_for(identity)

    def scope(resource: Resource) -> ColumnElement[bool]:
        clause = team_scope(resource)
        if resource is not FILES or identity.sees_everything:
            return clause
        # A literal, so that the planner can match it against the index predicate.
        return or_(clause, FILES.column("visibility") == literal_column(f"'{PUBLIC}'"))

    return scope
