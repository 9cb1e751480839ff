"""StaffMembership now lives in the scheduling app
(scheduling/migrations/0002_staffmembership.py), with its table: here it only leaves this
app's state."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_apitoken"),
        ("scheduling", "0002_staffmembership"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="StaffMembership")],
            database_operations=[],
        ),
    ]
