"""Background tasks run by the django-q2 worker (``manage.py qcluster``)."""


def send_due_notifications() -> int:
    raise NotImplementedError
