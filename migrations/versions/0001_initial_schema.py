"""Initial schema: structures, accounts, assessments, audit, sessions and tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 03:05:50.033510
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSON on SQLite, JSONB on PostgreSQL; None is stored as SQL NULL.
JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)


def upgrade() -> None:
    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt'))
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempt_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempt_key'), ['key'], unique=False)

    op.create_table('structure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finess', sa.String(length=9), nullable=False),
    sa.Column('finess_ej', sa.String(length=9), nullable=True),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('category_code', sa.String(), nullable=False),
    sa.Column('category_label', sa.String(), nullable=False),
    sa.Column('department', sa.String(), nullable=False),
    sa.Column('region', sa.String(), nullable=False),
    sa.Column('city', sa.String(), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_structure'))
    )
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_structure_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_structure_finess'), ['finess'], unique=True)
        batch_op.create_index(batch_op.f('ix_structure_finess_ej'), ['finess_ej'], unique=False)
        batch_op.create_index(batch_op.f('ix_structure_region'), ['region'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('password_hash', sa.String(), nullable=False),
    sa.Column('role', sa.String(), nullable=False),
    sa.Column('region', sa.String(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('director', 'ars', 'committee', 'admin')", name=op.f('ck_user_account_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_email'), ['email'], unique=True)

    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_api_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_token_hash'), ['token_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.String(), nullable=False),
    sa.Column('questionnaire_version', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('answers', JSON_TYPE, nullable=False),
    sa.Column('answer_meta', JSON_TYPE, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', JSON_TYPE, nullable=True),
    sa.Column('tier_id', sa.String(), nullable=True),
    sa.Column('tier_level', sa.Integer(), nullable=True),
    sa.Column('global_score', sa.Float(), nullable=True),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'submitted')", name=op.f('ck_assessment_status')),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_assessment_created_by_user_account')),
    sa.ForeignKeyConstraint(['structure_id'], ['structure.id'], name=op.f('fk_assessment_structure_id_structure')),
    sa.ForeignKeyConstraint(['submitted_by'], ['user_account.id'], name=op.f('fk_assessment_submitted_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment'))
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_structure_id'), ['structure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_tier_level'), ['tier_level'], unique=False)
        batch_op.create_index('uq_assessment_one_draft', ['structure_id'], unique=True, sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(), nullable=False),
    sa.Column('object_type', sa.String(), nullable=True),
    sa.Column('object_id', sa.String(), nullable=True),
    sa.Column('details', JSON_TYPE, nullable=False),
    sa.Column('ip', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_audit_event_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('auth_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('csrf_token', sa.String(), nullable=False),
    sa.Column('user_agent', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_auth_session_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session'))
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_user_id'), ['user_id'], unique=False)

    op.create_table('director_structure',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('structure_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['structure_id'], ['structure.id'], name=op.f('fk_director_structure_structure_id_structure'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_director_structure_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'structure_id', name=op.f('pk_director_structure'))
    )
    with op.batch_alter_table('director_structure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_director_structure_structure_id'), ['structure_id'], unique=False)

    op.create_table('password_reset_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_password_reset_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_password_reset_token'))
    )
    with op.batch_alter_table('password_reset_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_reset_token_user_id'), ['user_id'], unique=False)

    op.create_table('assessment_domain_score',
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.String(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('earned', sa.Float(), nullable=False),
    sa.Column('max', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name=op.f('fk_assessment_domain_score_assessment_id_assessment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assessment_id', 'domain_id', name=op.f('pk_assessment_domain_score'))
    )
    with op.batch_alter_table('assessment_domain_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_domain_score_domain_id'), ['domain_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('assessment_domain_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_domain_score_domain_id'))

    op.drop_table('assessment_domain_score')
    with op.batch_alter_table('password_reset_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_reset_token_user_id'))

    op.drop_table('password_reset_token')
    with op.batch_alter_table('director_structure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_director_structure_structure_id'))

    op.drop_table('director_structure')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_user_id'))

    op.drop_table('auth_session')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index('uq_assessment_one_draft', sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))
        batch_op.drop_index(batch_op.f('ix_assessment_tier_level'))
        batch_op.drop_index(batch_op.f('ix_assessment_structure_id'))

    op.drop_table('assessment')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_api_token_token_hash'))

    op.drop_table('api_token')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_email'))

    op.drop_table('user_account')
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_structure_region'))
        batch_op.drop_index(batch_op.f('ix_structure_finess_ej'))
        batch_op.drop_index(batch_op.f('ix_structure_finess'))
        batch_op.drop_index(batch_op.f('ix_structure_department'))

    op.drop_table('structure')
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempt_key'))
        batch_op.drop_index(batch_op.f('ix_login_attempt_at'))

    op.drop_table('login_attempt')
