"""The Lindenhof practice of the staff-page tests: two doctors and a signed-in desk
member (modules with other needs define their own ``clinic`` or ``staff``)."""

import pytest

from tests.factories import log_in_staff, make_clinic, make_doctor, make_staff


@pytest.fixture
def clinic():
    return make_clinic(name="Lindenhof Practice")


@pytest.fixture
def anna(clinic):
    return make_doctor(clinic, name="Dr. Anna Weber")


@pytest.fixture
def bernd(clinic):
    return make_doctor(clinic, name="Dr. Bernd Roth")


@pytest.fixture
def staff(client, clinic):
    user = make_staff("desk@example.com", clinics=(clinic,))
    log_in_staff(client, user)
    return user
