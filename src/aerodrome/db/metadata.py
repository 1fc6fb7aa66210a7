"""All tables, imported in one place so that migrations and tests see the whole schema."""

from __future__ import annotations

from sqlalchemy import MetaData

from aerodrome.catalog import models as catalog_models
from aerodrome.db.base import Base
from aerodrome.identity import models as identity_models
from aerodrome.work import models as work_models

MODEL_MODULES = (identity_models, catalog_models, work_models)
metadata: MetaData = Base.metadata
