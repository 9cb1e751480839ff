"""The django-q2 schedule that purges what has ended once a day (accounts.tasks): expired
sessions, API tokens ended a month ago, pending accounts of addresses that never signed
in. ``update_or_create`` makes it safe to run again, and running ``migrate`` again puts it
back should it be gone (/readyz checks that it is there)."""

from django.db import migrations

SCHEDULE_NAME = "purge expired sign-in data"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "accounts.tasks.purge_expired",
            "schedule_type": "D",  # Schedule.DAILY
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_sign_out_epoch"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
