"""The category a report was filed under, kept when the township names another (改类).

A patrol that cannot tell what it sees files under the lists' placeholder (类别待定), and one that guesses may
guess wrong; the township's desk then names the category the case is handled under. ``category`` is that one —
every list, rule, map and evaluation reads it — and ``reported_category`` keeps what the patrol sent, NULL while
the two are the same. A phone re-sending its queued report compares against what it sent, so a classified case
is still "the same submission" (200), not a conflict (409).

Revision ID: 0013_reported_category
Revises: 0012_township_list_index
Create Date: 2026-11-27
"""

from alembic import op

revision = "0013_reported_category"
down_revision = "0012_township_list_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE incident ADD COLUMN reported_category text")


def downgrade() -> None:
    op.execute("ALTER TABLE incident DROP COLUMN reported_category")
