"""All tables, imported in one place so that migrations and tests see the whole schema."""

from __future__ import annotations

from sqlalchemy import MetaData

from aerodrome.catalog import models as catalog_models
from aerodrome.db import row_counts
from aerodrome.db.base import Base
from aerodrome.events import models as events_models
from aerodrome.files import models as files_models
from aerodrome.fleet import models as fleet_models
from aerodrome.identity import models as identity_models
from aerodrome.pools import models as pools_models
from aerodrome.results import models as results_models
from aerodrome.stats import models as stats_models
from aerodrome.work import models as work_models

MODEL_MODULES = (
    identity_models,
    catalog_models,
    work_models,
    events_models,
    fleet_models,
    stats_models,
    pools_models,
    files_models,
    results_models,
    row_counts,
)
metadata: MetaData = Base.metadata
