"""Import every module that declares tables, so SQLModel.metadata knows them all
(migrations' autogenerate checks, tests comparing the schema with the models)."""

from __future__ import annotations

import app.dashboard.models
import app.models
import app.reviews.models
import app.shortlists.models
import app.structures.models

MODULES = (app.models, app.structures.models, app.dashboard.models, app.reviews.models,
           app.shortlists.models)
