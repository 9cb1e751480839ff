"""StaffMembership moves here from the accounts app: it is about clinics.

State only: the table keeps its name (``accounts_staffmembership``) and its rows;
accounts' migration 0005 removes the model from that app's state once this one has added
it here. The content type (and so its permissions and admin log entries) moves with it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="scheduling", model="staffmembership").exists():
        ContentType.objects.filter(app_label="accounts", model="staffmembership").update(
            app_label="scheduling"
        )


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="accounts", model="staffmembership").exists():
        ContentType.objects.filter(app_label="scheduling", model="staffmembership").update(
            app_label="accounts"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0001_initial"),
        ("accounts", "0004_apitoken"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="StaffMembership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                choices=[("staff", "Staff"), ("clinic_admin", "Clinic administrator")],
                                default="staff",
                                max_length=20,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "clinic",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="staff_memberships",
                                to="scheduling.clinic",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                limit_choices_to={"is_staff": True},
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="staff_memberships",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_staffmembership",
                        "ordering": ["clinic__name", "user__email"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "clinic"), name="staff_membership_unique"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("role__in", ["staff", "clinic_admin"])),
                                name="staff_membership_role_valid",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
