"""Tables of the campaigns package (migration 0012).

    Campaign          an ARS call for a region: name, start, deadline, target categories
    CampaignReminder  one reminder e-mailed about one structure (at most one a day for a
                      structure, whatever the campaign: unique (structure_id, sent_on))
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import created_field, json_type


class Campaign(SQLModel, table=True):
    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    region: str = Field(index=True)
    name: str
    starts_on: date
    deadline: date
    categories: list[str] = Field(default_factory=list,
                                  sa_column=Column(json_type(), nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = created_field()


class CampaignReminder(SQLModel, table=True):
    __tablename__ = "campaign_reminder"
    __table_args__ = (UniqueConstraint("structure_id", "sent_on"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE", index=True)
    structure_id: int = Field(foreign_key="structure.id", ondelete="CASCADE")
    sent_on: date  # the day in Europe/Paris
    sent_by: int | None = Field(default=None, foreign_key="user_account.id")
    recipients: int = 0
    created_at: datetime = created_field()
