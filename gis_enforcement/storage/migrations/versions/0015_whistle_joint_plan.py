"""A district joint operation's whistle (联合执法) is a whistle of its own mode, ``joint_plan``.

Executing a plan used to record its whistles as the township's own (mode ``township``, whistler the case's
township), so the district's operation counted among the township's whistles and summons. The mode's check now
allows ``joint_plan``; such a whistle's ``whistler_unit`` is ``district``, the unit code of district-wide roles.

Revision ID: 0015_whistle_joint_plan
Revises: 0014_assignment_declined_s
Create Date: 2026-11-28
"""

from alembic import op

revision = "0015_whistle_joint_plan"
down_revision = "0014_assignment_declined_s"
branch_labels = None
depends_on = None

_OLD = "'township', 'lead_department', 'department_request'"


def upgrade() -> None:
    op.execute("ALTER TABLE whistle DROP CONSTRAINT IF EXISTS whistle_mode_check, "
               f"ADD CONSTRAINT whistle_mode_check CHECK (mode IN ({_OLD}, 'joint_plan'))")


def downgrade() -> None:
    # refused by the database while a joint_plan whistle is stored: those records have no older mode to go to
    op.execute("ALTER TABLE whistle DROP CONSTRAINT IF EXISTS whistle_mode_check, "
               f"ADD CONSTRAINT whistle_mode_check CHECK (mode IN ({_OLD}))")
