"""The work domain as the API exposes it: job definitions, jobs, job states, runs and queues."""

from __future__ import annotations

from aerodrome.catalog.service import COMPONENTS, PRODUCTS, TOPICS
from aerodrome.db.resources import Relation, Resource
from aerodrome.identity import service as identity_service
from aerodrome.work.models import Job, JobDefinition, Jobstate, Queue, Run

QUEUES = Resource("queue", "queues", Queue.__table__, alternate_keys=("name",))
RUNS = Resource(
    "run",
    "runs",
    Run.__table__,
    team_key="team_id",
    alternate_keys=("name",),
    relations={"team": Relation("team", "team_id", identity_service.TEAMS)},
)
JOBDEFINITIONS = Resource(
    "jobdefinition",
    "jobdefinitions",
    JobDefinition.__table__,
    relations={"topic": Relation("topic", "topic_id", TOPICS)},
)
JOBSTATES = Resource(
    "jobstate", "jobstates", Jobstate.__table__, team_key="team_id", default_sort=("created_at",)
)
JOBS = Resource(
    "job",
    "jobs",
    Job.__table__,
    team_key="team_id",
    relations={
        "team": Relation("team", "team_id", identity_service.TEAMS),
        "remoteci": Relation("remoteci", "remoteci_id", identity_service.REMOTECIS),
        "topic": Relation("topic", "topic_id", TOPICS),
        "product": Relation("product", "product_id", PRODUCTS),
        "jobdefinition": Relation("jobdefinition", "jobdefinition_id", JOBDEFINITIONS),
        "pipeline": Relation("pipeline", "run_id", RUNS),
        "jobstates": Relation("jobstates", "id", JOBSTATES, remote_key="job_id", many=True),
    },
)
# Components are related through `job_components`; the jobs service embeds them itself.
__all__ = ["COMPONENTS", "JOBDEFINITIONS", "JOBS", "JOBSTATES", "QUEUES", "RUNS"]
