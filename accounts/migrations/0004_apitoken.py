"""ApiToken moves here from the api app (clinic.api): tokens belong to users.

State only: the table keeps its name (``api_apitoken``) and its rows; api's migration
0004 removes the model from that app's state once this one has added it here. The
content type (and so its permissions and admin log entries) moves with it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="accounts", model="apitoken").exists():
        ContentType.objects.filter(app_label="api", model="apitoken").update(app_label="accounts")


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="api", model="apitoken").exists():
        ContentType.objects.filter(app_label="accounts", model="apitoken").update(app_label="api")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_patient_detail_validators"),
        ("api", "0003_staff_token_device"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiToken",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("patient", "Patient (emailed code)"),
                                    ("staff", "Staff (password and authenticator)"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("digest", models.CharField(editable=False, max_length=64, unique=True)),
                        ("prefix", models.CharField(editable=False, max_length=8)),
                        ("auth_hash", models.CharField(editable=False, max_length=128)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("expires_at", models.DateTimeField()),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "device",
                            models.ForeignKey(
                                blank=True,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="api_tokens",
                                to="otp_totp.totpdevice",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="api_tokens",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "api_apitoken",
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(
                                fields=["user", "created_at"], name="api_apitoke_user_id_e9f36c_idx"
                            )
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("device__isnull", True), ("kind", "patient")),
                                    models.Q(("device__isnull", False), ("kind", "staff")),
                                    _connector="OR",
                                ),
                                name="api_token_staff_has_device",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
