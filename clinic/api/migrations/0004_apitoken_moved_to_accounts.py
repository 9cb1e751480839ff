"""ApiToken now lives in the accounts app (accounts/migrations/0004_apitoken.py), with
its table: here it only leaves this app's state."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_staff_token_device"),
        ("accounts", "0004_apitoken"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ApiToken")],
            database_operations=[],
        ),
    ]
