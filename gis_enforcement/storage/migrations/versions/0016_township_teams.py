"""Each township's integrated enforcement team (综合行政执法队) is its own unit.

The lists name the township teams once (``TOWN``, a department with ``officers_per_township``), but there are as
many teams as townships: the team summoned to a case is the team of the case's township. So

- every assignment records the township it was summoned for (``assignment.township_code``): the case's
  township, or, for a report no township holds that a border township took up, the township that whistled it.
  Existing assignments get theirs the same way;
- a user of a township team names the township whose team it serves (``app_user.team_township``), and reads
  and acts on that team's summons only.

Revision ID: 0016_township_teams
Revises: 0015_whistle_joint_plan
Create Date: 2026-11-28
"""

from alembic import op

revision = "0016_township_teams"
down_revision = "0015_whistle_joint_plan"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE assignment ADD COLUMN township_code text;
        UPDATE assignment a SET township_code = COALESCE(i.township_code,
                                                         CASE WHEN w.mode = 'township' THEN w.whistler_unit END)
          FROM incident i, whistle w WHERE i.id = a.incident_id AND w.id = a.whistle_id;
        CREATE INDEX assignment_department_township_idx ON assignment (department, township_code, status);

        ALTER TABLE app_user ADD COLUMN team_township text,
          ADD CONSTRAINT app_user_team_township_check CHECK (team_township IS NULL OR unit_kind = 'department');
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE app_user DROP CONSTRAINT IF EXISTS app_user_team_township_check, DROP COLUMN team_township;
        DROP INDEX IF EXISTS assignment_department_township_idx;
        ALTER TABLE assignment DROP COLUMN township_code;
        """
    )
