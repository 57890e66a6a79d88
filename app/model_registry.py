"""Import every module that declares tables, so SQLModel.metadata knows them all
(migrations' autogenerate checks, tests comparing the schema with the models)."""

from __future__ import annotations

import app.accounts.mfa_models
import app.accounts.models
import app.accounts.oidc_models
import app.assessments.models
import app.audit
import app.campaigns.models
import app.dashboard.models
import app.files
import app.reviews.models
import app.shortlists.models
import app.structures.models

MODULES = (app.structures.models, app.accounts.models, app.accounts.mfa_models,
           app.accounts.oidc_models, app.assessments.models, app.audit, app.dashboard.models,
           app.files, app.reviews.models, app.shortlists.models, app.campaigns.models)
