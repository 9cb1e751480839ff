"""The django-q2 schedule that sweeps the outbox every minute.

Confirmations are sent right after their booking commits (``notifications`` queues a
task on commit); this schedule sends reminders when they fall due, retries failed sends
after their backoff, and catches anything whose wake-up task was lost. A migration, so
that every database that runs the app has it: ``make run`` and the compose file's
``migrate`` service apply it. ``update_or_create`` makes it safe to run again.
"""

from django.db import migrations

SCHEDULE_NAME = "send due notifications"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "appointments.tasks.send_due_notifications",
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": 1,
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("appointments", "0004_notification_next_attempt_at"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
