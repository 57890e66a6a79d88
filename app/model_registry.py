"""Import every module that declares tables, so SQLModel.metadata knows them all
(migrations' autogenerate checks, tests comparing the schema with the models)."""

from __future__ import annotations

import app.dashboard.models
import app.imports.models
import app.models
import app.reviews.models
import app.shortlists.models

MODULES = (app.models, app.imports.models, app.dashboard.models, app.reviews.models,
           app.shortlists.models)
