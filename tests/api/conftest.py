"""Fixtures of the API tests: a doctor with the factory's hours, a patient, and an API
client signed in as that patient."""

import pytest

from tests.api.helpers import client_for
from tests.factories import make_doctor, make_patient


@pytest.fixture
def doctor():
    return make_doctor()


@pytest.fixture
def patient():
    return make_patient()


@pytest.fixture
def api(patient):
    return client_for(patient.user)
