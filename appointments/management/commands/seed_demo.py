"""``manage.py seed_demo``: a clinic that looks lived-in, for demos and load tests.

Demo rows are recognisable, so that the command can tell whether it has run before and
``--reset`` removes only what it made: clinic slugs start with ``demo-`` and generated
patients' emails end in ``@demo.example.com``.

Appointments are laid out by walking each doctor's free time (``free_slots`` on a
15-minute grid, so hours, extra hours, time off and DST are honoured) and never overlap
per doctor or per patient: the database's overlap guards would reject them otherwise.
They are inserted with ``bulk_create_with_history`` so every one has its audit record.
"""

import datetime as dt
import random
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts import phones
from accounts.models import Dependant, Patient, User
from appointments.models import Appointment, Status
from clinic.audit import rewriting_history
from scheduling.availability import (
    BookingWindow,
    DateHours,
    Interval,
    LocalPeriod,
    WeeklyHours,
    free_slots,
)
from scheduling.languages import join_languages, parse_languages
from scheduling.models import (
    AppointmentType,
    Clinic,
    Doctor,
    ExtraHours,
    StaffMembership,
    StaffRole,
    TimeOff,
    WeeklyAvailability,
    sort_name_of,
)
from scheduling.selectors import local_day_bounds

DEMO_SLUG_PREFIX = "demo-"
DEMO_PATIENT_DOMAIN = "demo.example.com"
ADMIN_LOGIN = ("admin@example.com", "admin")
STAFF_LOGIN = ("staff@example.com", "staff")
# Patients have no password: they sign in with a code sent by email (printed on the
# console in development).
PATIENT_LOGIN = ("patient@example.com", None)
# The people the demo patient books for: her son and her mother, whom she cares for.
DEMO_FAMILY = (
    ("Jonas Hoffmann", dt.date(2018, 9, 3), Dependant.Relationship.CHILD),
    ("Ingrid Hoffmann", dt.date(1949, 2, 11), Dependant.Relationship.RELATIVE),
)

GRID = dt.timedelta(minutes=15)  # every demo appointment type lasts a multiple of this
PAST_WEEKS = 2
HISTORY_REASON = "booked (demo data)"


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclass(frozen=True)
class ClinicPreset:
    name: str
    slug: str
    timezone: str
    country: str
    address: str
    phone: str
    email: str
    phone_pattern: str  # patients' numbers, "#" is a random digit; fictional ranges
    languages: str  # ISO 639-1 codes, as Doctor.languages stores them
    first_names: Sequence[str]
    last_names: Sequence[str]


CLINIC_PRESETS = (
    ClinicPreset(
        name="Lindenhof Medical Centre",
        slug="demo-berlin",
        timezone="Europe/Berlin",
        country="DE",
        address="Lindenstraße 34\n10969 Berlin\nGermany",
        phone="+49 30 2589 4410",
        email="praxis@lindenhof.example.com",
        phone_pattern="+49 15# ########",
        languages="de,en",
        first_names=words(
            """
            Anna Lukas Sophie Jonas Marie Felix Lea Paul Hannah Maximilian Laura Elias Katharina
            Tobias Julia Moritz Emma Leon Mia Finn Clara Jan Lena Niklas Sarah David Ayşe Mehmet
            Zofia Piotr
            """
        ),
        last_names=words(
            """
            Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter
            Klein Wolf Neumann Schwarz Zimmermann Braun Krüger Hartmann Lange Werner Krause Lehmann
            Köhler Öztürk Demir Nowak Kowalski Schröder
            """
        ),
    ),
    ClinicPreset(
        name="Hudson Street Family Practice",
        slug="demo-new-york",
        timezone="America/New_York",
        country="US",
        address="210 Hudson Street, Suite 4\nNew York, NY 10013\nUSA",
        phone="+1 212 555 0142",
        email="frontdesk@hudsonfamily.example.com",
        phone_pattern="+1 917 555 ####",
        languages="en,es",
        first_names=words(
            """
            Emily Michael Sarah David Jessica Daniel Olivia James Priya Carlos Grace Andre Sofia
            Ethan Maya Marcus Chloe Isaiah Hannah Diego
            """
        ),
        last_names=words(
            """
            Johnson Williams Brown Garcia Miller Davis Rodriguez Martinez Patel Nguyen Kim Cohen
            O'Brien Thompson Jackson Rivera Chen Goldberg Washington Lopez
            """
        ),
    ),
    ClinicPreset(
        name="Sakura Clinic Shibuya",
        slug="demo-tokyo",
        timezone="Asia/Tokyo",
        country="JP",
        address="2-21-1 Shibuya, Shibuya-ku\nTokyo 150-0002\nJapan",
        phone="+81 3 5555 0123",
        email="info@sakura-clinic.example.com",
        phone_pattern="+81 90 #### ####",
        languages="ja,en",
        first_names=words(
            """
            Yui Haruto Sakura Ren Aoi Sota Hina Yuto Mei Riku Akari Kaito Yuna Takumi Hana Daiki
            """
        ),
        last_names=words(
            """
            Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida
            Yamada Sasaki Inoue Kimura Hayashi
            """
        ),
    ),
    ClinicPreset(
        name="Thames Medical Practice",
        slug="demo-london",
        timezone="Europe/London",
        country="GB",
        address="18 Bankside\nLondon SE1 9JE\nUnited Kingdom",
        phone="+44 20 7946 0321",
        email="reception@thamesmedical.example.com",
        phone_pattern="+44 7700 900###",
        languages="en,fr",
        first_names=words(
            """
            Oliver Amelia George Isla Harry Ava Jack Mia Noah Freya Arjun Aisha Charlie Poppy Kwame
            Imogen
            """
        ),
        last_names=words(
            """
            Smith Jones Taylor Brown Evans Wilson Roberts Walker Wright Hughes Khan Begum Okafor
            Green Hall Clarke
            """
        ),
    ),
    ClinicPreset(
        name="Harbourside Health",
        slug="demo-sydney",
        timezone="Australia/Sydney",
        country="AU",
        address="1 Macquarie Place\nSydney NSW 2000\nAustralia",
        phone="+61 2 5550 1234",
        email="hello@harbourside.example.com",
        phone_pattern="+61 491 570 ###",
        languages="en,zh",
        first_names=words(
            """
            Charlotte William Chloe Lachlan Zoe Thomas Ruby Cooper Isabella Jack Matilda Liam Wei
            Mei Lucas Sienna
            """
        ),
        last_names=words(
            """
            Smith Nguyen Kelly Ryan Campbell Murphy Mitchell Clarke Wang Li Anderson Taylor White
            Martin Walsh Brown
            """
        ),
    ),
)

# (specialty, relative frequency, a particular interest for the bio)
SPECIALTIES = (
    ("General practice", 8, "preventive care and long-term conditions"),
    ("Internal medicine", 3, "diabetes and high blood pressure"),
    ("Paediatrics", 3, "child development and vaccinations"),
    ("Dermatology", 2, "skin cancer screening and eczema"),
    ("Cardiology", 2, "heart rhythm disorders and cardiac rehabilitation"),
    ("Orthopaedics", 2, "sports injuries and back pain"),
    ("Gynaecology", 2, "prenatal care and the menopause"),
    ("Ear, nose and throat", 1, "hearing loss and chronic sinusitis"),
    ("Ophthalmology", 1, "glaucoma and diabetic eye care"),
    ("Psychiatry", 1, "anxiety, depression and sleep problems"),
    ("Neurology", 1, "migraine and epilepsy"),
    ("Endocrinology", 1, "thyroid disease"),
)
MEDICAL_SCHOOLS = words(
    """
    Heidelberg Vienna Edinburgh Toronto Melbourne Kyoto Boston Copenhagen Zurich Dublin Barcelona
    Leiden
    """
)

# (name, minutes, chance a doctor offers it, how often it is booked); all offer the first.
APPOINTMENT_TYPES = (
    ("Consultation", 30, 1.0, 5),
    ("Follow-up", 15, 0.6, 3),
    ("Check-up", 45, 0.4, 2),
)
BOOKING_WEIGHTS = {name: weight for name, _, _, weight in APPOINTMENT_TYPES}

# Empty ones too: many patients leave the field blank.
VISIT_REASONS = [""] * 4 + [
    "Persistent cough",
    "Annual check-up",
    "Back pain",
    "Repeat prescription",
    "Follow-up on blood test results",
    "Skin rash",
    "Headaches",
    "Travel vaccinations",
    "Knee pain after running",
    "Blood pressure check",
    "Tired all the time",
    "Sore throat",
    "Trouble sleeping",
    "Mole check",
]
PATIENT_CANCELLATION_REASONS = ("Feeling better", "Work came up", "Booked by mistake", "")
CLINIC_CANCELLATION_REASONS = ("Doctor unwell", "Emergency at the clinic")

T = dt.time


@dataclass
class DemoDoctor:
    """A saved doctor with the hours and types the booking walk needs, kept in memory."""

    doctor: Doctor
    clinic: Clinic
    types: list[AppointmentType] = field(default_factory=list)
    weekly: list[WeeklyHours] = field(default_factory=list)
    extra: list[DateHours] = field(default_factory=list)
    time_off: list[LocalPeriod] = field(default_factory=list)


@dataclass(frozen=True)
class Logins:
    admin: User
    staff: User
    patient: Patient
    created: tuple[str, ...]
    family: tuple[Dependant, ...] = ()


class Command(BaseCommand):
    help = (
        "Fill the database with a realistic demo: clinics, doctors with hours and time off, "
        "patients, and past and upcoming appointments, plus logins to try "
        f"({ADMIN_LOGIN[0]}, {STAFF_LOGIN[0]}, {PATIENT_LOGIN[0]}; created if missing, "
        "never changed). Demo clinics have slugs starting with 'demo-' and generated "
        f"patients have emails ending in '@{DEMO_PATIENT_DOMAIN}'. If demo data exists "
        "already, nothing is done unless --reset is given: it deletes the demo data first, "
        "appointments and their history included, with SQL DELETE (appointments cannot be "
        "deleted through the ORM, by design). --dry-run does all the work in a transaction "
        "and rolls it back. The logins' passwords are public, so the command refuses to run "
        "with DEBUG off unless --allow-without-debug is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinics", type=int, default=1, help="Clinics (default 1).")
        parser.add_argument(
            "--doctors", type=int, default=50, help="Doctors, spread over the clinics (50)."
        )
        parser.add_argument("--patients", type=int, default=20_000, help="Patients (20000).")
        parser.add_argument(
            "--weeks",
            type=int,
            default=4,
            help="Weeks of upcoming appointments (4); there are always 2 past weeks too.",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (1).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Do everything, then roll it back."
        )
        parser.add_argument("--reset", action="store_true", help="Delete existing demo data first.")
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Run even with DEBUG off (creates logins with public passwords).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        check_options(options)
        if demo_data_exists() and not options["reset"]:
            self.stdout.write(
                "Demo data is already present; nothing to do. Run with --reset to replace it."
            )
            return

        started = time.monotonic()
        with transaction.atomic():
            if options["reset"]:
                remove_demo_data()
            counts, logins = seed(
                clinics=options["clinics"],
                doctors=options["doctors"],
                patients=options["patients"],
                weeks=options["weeks"],
                rng=random.Random(options["seed"]),
                now=timezone.now(),
            )
            if options["dry_run"]:
                transaction.set_rollback(True)
        if not options["dry_run"]:
            # Bulk inserts leave the planner's statistics behind; without them it
            # misjudges the appointment queries until autovacuum gets round to it.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        elapsed = time.monotonic() - started
        prefix = "Dry run, nothing written: would have seeded" if options["dry_run"] else "Seeded"
        self.stdout.write(self.style.SUCCESS(f"{prefix} {counts} in {elapsed:.1f} s."))
        if not options["dry_run"]:
            self.stdout.write(describe_logins(logins))


def check_options(options: dict[str, Any]) -> None:
    if not settings.DEBUG and not options["allow_without_debug"]:
        raise CommandError(
            "DEBUG is off. seed_demo creates logins with public passwords; "
            "pass --allow-without-debug if this really is a demo site."
        )
    for name, minimum in (("clinics", 1), ("doctors", 1), ("patients", 1), ("weeks", 0)):
        if options[name] < minimum:
            raise CommandError(f"--{name} must be at least {minimum}.")
    if options["doctors"] < options["clinics"]:
        raise CommandError("Every clinic needs a doctor: --doctors must be >= --clinics.")


@dataclass(frozen=True)
class Counts:
    clinics: int
    doctors: int
    patients: int
    appointments: int
    upcoming: int

    def __str__(self) -> str:
        return (
            f"{plural(self.clinics, 'clinic')}, {plural(self.doctors, 'doctor')}, "
            f"{plural(self.patients, 'patient')} and {plural(self.appointments, 'appointment')} "
            f"({self.upcoming:,} upcoming)"
        )


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def seed(
    *, clinics: int, doctors: int, patients: int, weeks: int, rng: random.Random, now: dt.datetime
) -> tuple[Counts, Logins]:
    presets = [preset_for(index) for index in range(clinics)]
    saved_clinics = create_clinics(presets)
    logins = create_logins()
    # The demo staff login works in every demo clinic (the staff pages show only a
    # member's clinics).
    for clinic in saved_clinics:
        StaffMembership.objects.get_or_create(
            user=logins.staff, clinic=clinic, defaults={"role": StaffRole.CLINIC_ADMIN}
        )
    demo_doctors = create_doctors(saved_clinics, presets, doctors, weeks, rng, now)
    demo_patients = create_patients(presets, patients, rng, now)
    appointments = book_appointments(
        demo_doctors, demo_patients, logins, weeks=weeks, rng=rng, now=now
    )
    upcoming = sum(1 for a in appointments if a.status == Status.BOOKED and a.starts_at > now)
    counts = Counts(
        len(saved_clinics), len(demo_doctors), len(demo_patients), len(appointments), upcoming
    )
    return counts, logins


# --- What exists already, and removing it ---------------------------------------------


def demo_clinics() -> models.QuerySet[Clinic]:
    return Clinic.objects.filter(slug__startswith=DEMO_SLUG_PREFIX)


def demo_patients_query() -> models.QuerySet[Patient]:
    return Patient.objects.filter(user__email__endswith=f"@{DEMO_PATIENT_DOMAIN}")


def demo_data_exists() -> bool:
    return demo_clinics().exists() or demo_patients_query().exists()


def remove_demo_data() -> None:
    """Delete every demo row, appointments and their audit records first: the one path
    that deletes appointments and history, and only demo ones (clinic/audit.py)."""
    with rewriting_history():
        _remove_demo_rows()


def _remove_demo_rows() -> None:
    doctor_ids = list(Doctor.objects.filter(clinic__in=demo_clinics()).values_list("pk", flat=True))
    of_demo = Q(doctor_id__in=doctor_ids) | Q(patient__in=demo_patients_query())
    history_model = Appointment.history.model
    delete_with_sql(history_model.objects.filter(of_demo))
    delete_with_sql(Appointment.objects.filter(of_demo))

    AppointmentType.objects.filter(doctor_id__in=doctor_ids).delete()
    Doctor.objects.filter(pk__in=doctor_ids).delete()  # cascades to hours and time off
    for hours_model in (WeeklyAvailability, TimeOff, ExtraHours):
        hours_model.history.model.objects.filter(doctor_id__in=doctor_ids).delete()
    demo_clinics().delete()

    user_ids = list(demo_patients_query().values_list("user_id", flat=True))
    demo_patients_query().delete()
    User.objects.filter(pk__in=user_ids).delete()


def delete_with_sql(queryset: models.QuerySet[Any]) -> None:
    """DELETE the rows of ``queryset`` in one statement.

    Appointment.delete() and its QuerySet.delete() refuse on purpose (appointments are
    cancelled, not deleted); demo data is the one exception, so it is removed in SQL."""
    meta = queryset.model._meta
    quote = connection.ops.quote_name
    select_sql, params = queryset.values("pk").query.sql_with_params()
    # Table and column names come from the model, values are query parameters.
    statement = (
        f"DELETE FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} IN ({select_sql})"  # noqa: S608
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


# --- Logins, clinics, doctors, patients -----------------------------------------------


def create_logins() -> Logins:
    created: list[str] = []
    admin = login_user(ADMIN_LOGIN, created, is_staff=True, is_superuser=True)
    staff = login_user(STAFF_LOGIN, created, is_staff=True)
    patient_user = login_user(PATIENT_LOGIN, created)
    patient, _ = Patient.objects.get_or_create(
        user=patient_user,
        defaults={
            "full_name": "Lena Hoffmann",
            "phone": "+4915123456789",
            "date_of_birth": dt.date(1988, 5, 14),
        },
    )
    family = tuple(
        Dependant.objects.get_or_create(
            patient=patient,
            full_name=name,
            erased_at__isnull=True,
            defaults={"date_of_birth": born, "relationship": relationship},
        )[0]
        for name, born, relationship in DEMO_FAMILY
    )
    return Logins(admin=admin, staff=staff, patient=patient, created=tuple(created), family=family)


def login_user(login: tuple[str, str | None], created: list[str], **flags: bool) -> User:
    """The user with this email; created with the demo password if missing. An existing
    user, perhaps a real one, is left exactly as it is."""
    email, password = login
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, password, **flags)
        created.append(email)
    return user


def preset_for(index: int) -> ClinicPreset:
    preset = CLINIC_PRESETS[index % len(CLINIC_PRESETS)]
    round_ = index // len(CLINIC_PRESETS)
    if round_ == 0:
        return preset
    return ClinicPreset(
        **(
            vars(preset)
            | {"name": f"{preset.name} {round_ + 1}", "slug": f"{preset.slug}-{round_ + 1}"}
        )
    )


def create_clinics(presets: Sequence[ClinicPreset]) -> list[Clinic]:
    return Clinic.objects.bulk_create(
        Clinic(
            name=preset.name,
            slug=preset.slug,
            timezone=preset.timezone,
            country=preset.country,
            address=preset.address,
            phone=preset.phone,
            email=preset.email,
        )
        for preset in presets
    )


def create_doctors(
    clinics: Sequence[Clinic],
    presets: Sequence[ClinicPreset],
    count: int,
    weeks: int,
    rng: random.Random,
    now: dt.datetime,
) -> list[DemoDoctor]:
    used_names: set[str] = set()
    demo_doctors = []
    for index in range(count):
        clinic, preset = clinics[index % len(clinics)], presets[index % len(clinics)]
        doctor = new_doctor(clinic, preset, used_names, rng)
        demo_doctors.append(DemoDoctor(doctor=doctor, clinic=clinic))
    Doctor.objects.bulk_create([demo.doctor for demo in demo_doctors])

    types, rules, time_off, extra = [], [], [], []
    for demo in demo_doctors:
        today = now.astimezone(demo.clinic.zone).date()
        demo.types = new_appointment_types(demo.doctor, rng)
        demo.weekly = weekly_hours(rng)
        days_off = new_time_off(demo.doctor, today, weeks, rng)
        extra_hours = new_extra_hours(demo.doctor, demo.weekly, today, rng)
        demo.time_off = [LocalPeriod(period.local_start, period.local_end) for period in days_off]
        demo.extra = [
            DateHours(hours.date, hours.start_time, hours.end_time) for hours in extra_hours
        ]
        types += demo.types
        rules += [
            WeeklyAvailability(
                doctor=demo.doctor, weekday=h.weekday, start_time=h.start, end_time=h.end
            )
            for h in demo.weekly
        ]
        time_off += days_off
        extra += extra_hours
    AppointmentType.objects.bulk_create(types)
    for objs, model in ((rules, WeeklyAvailability), (time_off, TimeOff), (extra, ExtraHours)):
        bulk_create_with_history(objs, model, default_change_reason="demo data")
    return demo_doctors


def new_doctor(
    clinic: Clinic, preset: ClinicPreset, used_names: set[str], rng: random.Random
) -> Doctor:
    name = unique_doctor_name(preset, used_names, rng)
    specialty, _, interest = rng.choices(SPECIALTIES, weights=[s[1] for s in SPECIALTIES])[0]
    bio = (
        f"{name} studied medicine in {rng.choice(MEDICAL_SCHOOLS)} and has worked in "
        f"{specialty.lower()} for {rng.randint(4, 30)} years, with a particular interest in "
        f"{interest}."
    )
    # The clinic's languages, and now and then one more that patients often ask for.
    codes = parse_languages(preset.languages)
    if rng.random() < 0.3:
        codes.append(rng.choice(["tr", "ar", "pl", "ru", "it", "uk"]))
    # bulk_create skips save(), which keeps sort_name.
    return Doctor(
        clinic=clinic,
        name=name,
        specialty=specialty,
        bio=bio,
        languages=join_languages(codes),
        sort_name=sort_name_of(name),
    )


def unique_doctor_name(preset: ClinicPreset, used_names: set[str], rng: random.Random) -> str:
    # Two doctors called Dr. Anna Müller would confuse patients choosing between them.
    for _ in range(20):
        name = f"Dr. {rng.choice(preset.first_names)} {rng.choice(preset.last_names)}"
        if name not in used_names:
            break
    else:
        name = f"{name} ({len(used_names) + 1})"  # only with far more doctors than names
    used_names.add(name)
    return name


# What a new patient books first with every demo doctor (each has one).
FIRST_VISIT_TYPE = "Consultation"


def new_appointment_types(doctor: Doctor, rng: random.Random) -> list[AppointmentType]:
    return [
        AppointmentType(
            doctor=doctor,
            name=name,
            duration=dt.timedelta(minutes=minutes),
            is_first_visit=name == FIRST_VISIT_TYPE,
        )
        for name, minutes, chance, _ in APPOINTMENT_TYPES
        if chance >= 1 or rng.random() < chance
    ]


def weekly_hours(rng: random.Random) -> list[WeeklyHours]:
    """One of a few common working patterns, in local wall-clock time."""
    pattern = rng.choices(("full", "late", "split", "part-time"), weights=(4, 2, 3, 2))[0]
    if pattern == "full":
        hours = [WeeklyHours(day, T(8), T(16)) for day in range(5)]
    elif pattern == "late":
        hours = [WeeklyHours(day, T(10), T(18, 30)) for day in range(5)]
    elif pattern == "split":
        hours = [WeeklyHours(day, T(8), T(12)) for day in range(5)]
        hours += [WeeklyHours(day, T(14), T(18)) for day in (0, 1, 3, 4)]  # Wed afternoon off
    else:
        hours = [WeeklyHours(day, T(9), T(17)) for day in sorted(rng.sample(range(5), 3))]
    if rng.random() < 0.2:
        hours.append(WeeklyHours(5, T(9), T(13)))
    return hours


def new_time_off(doctor: Doctor, today: dt.date, weeks: int, rng: random.Random) -> list[TimeOff]:
    """A holiday for about one doctor in four, a training afternoon for one in seven."""
    periods = []
    first_monday = today - dt.timedelta(days=today.weekday() + 7 * PAST_WEEKS)
    if rng.random() < 0.25:
        start = first_monday + dt.timedelta(weeks=rng.randint(0, PAST_WEEKS + weeks))
        end = start + dt.timedelta(days=rng.choice((2, 4)))
        periods.append(TimeOff(doctor=doctor, start_date=start, end_date=end, reason="Holiday"))
    if rng.random() < 0.15:
        day = today + dt.timedelta(days=rng.randint(-7 * PAST_WEEKS, 7 * max(weeks, 1)))
        periods.append(
            TimeOff(
                doctor=doctor,
                start_date=day,
                end_date=day,
                start_time=T(13),
                end_time=T(19),
                reason="Training",
            )
        )
    return periods


def new_extra_hours(
    doctor: Doctor, weekly: Sequence[WeeklyHours], today: dt.date, rng: random.Random
) -> list[ExtraHours]:
    """A Saturday morning clinic in the coming fortnight, for some who don't work Saturdays."""
    works_saturdays = any(hours.weekday == 5 for hours in weekly)
    if works_saturdays or rng.random() >= 0.1:
        return []
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7 + 7 * rng.randint(0, 1))
    return [ExtraHours(doctor=doctor, date=saturday, start_time=T(9), end_time=T(12))]


def create_patients(
    presets: Sequence[ClinicPreset], count: int, rng: random.Random, now: dt.datetime
) -> list[Patient]:
    # Demo patients sign in with emailed codes; one unusable password marker serves all.
    unusable_password = make_password(None)
    users, profiles = [], []
    for number in range(1, count + 1):
        preset = rng.choice(presets)
        first, last = rng.choice(preset.first_names), rng.choice(preset.last_names)
        email = f"{ascii_slug(first)}.{ascii_slug(last)}.{number}@{DEMO_PATIENT_DOMAIN}"
        users.append(User(email=email, password=unusable_password, date_joined=now))
        profiles.append(
            Patient(
                full_name=f"{first} {last}",
                phone=re.sub("#", lambda _: str(rng.randint(0, 9)), preset.phone_pattern),
                date_of_birth=dt.date(
                    rng.randint(1938, 2022), rng.randint(1, 12), rng.randint(1, 28)
                ),
            )
        )
    User.objects.bulk_create(users)
    for user, profile in zip(users, profiles, strict=True):
        profile.user = user  # bulk_create set the primary keys (RETURNING)
        # bulk_create skips save(): E.164 and the search keys are set here.
        profile.phone = phones.normalise(profile.phone)  # each pattern has its country code
        profile.with_search_keys()
    return Patient.objects.bulk_create(profiles)


def ascii_slug(name: str) -> str:
    """For email addresses: "Müller" -> "mueller", "Ayşe" -> "ayse", "O'Brien" -> "obrien"."""
    name = name.lower()
    for letter, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        name = name.replace(letter, spelled)
    decomposed = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(char for char in decomposed if char.isalnum())


# --- Appointments ---------------------------------------------------------------------


# Whom a demo appointment is for: the account holder, and one of their family or None.
Person = tuple[Patient, Dependant | None]


class PatientCalendar:
    """Who is free when: picks patients so that nobody is booked twice at once and nobody
    holds more upcoming appointments than the clinic allows.

    The upcoming cap counts per person, as the booking rules do; busy times count per
    account: the demo patient goes along to her son's and her mother's appointments, so
    no two of the family's overlap (stricter than the rules, which would allow it)."""

    def __init__(
        self,
        patients: Sequence[Patient],
        demo: Patient,
        family: Sequence[Dependant],
        rng: random.Random,
        now: dt.datetime,
    ) -> None:
        self.patients, self.demo, self.rng, self.now = patients, demo, rng, now
        self.busy: dict[int, list[Interval]] = defaultdict(list)
        self.upcoming: dict[tuple[int, int], int] = defaultdict(int)
        # The demo login may have booked at a clinic that is not demo data.
        for start, end, dependant_id in (
            Appointment.objects.active()
            .filter(patient=demo)
            .values_list("starts_at", "ends_at", "dependant_id")
        ):
            self._take(demo.pk, dependant_id, Interval(start, end))
        # The demo login gets two past and two upcoming appointments, and one upcoming for
        # each of her family, each the first one booked in a window of three days (so
        # never only a weekend) starting here.
        self.demo_windows: list[tuple[dt.datetime, Dependant | None]] = [
            (now + dt.timedelta(days=days), None) for days in (-11, -5, 2, 6)
        ]
        self.demo_windows += [
            (now + dt.timedelta(days=days), person)
            for days, person in zip((1, 4), family, strict=False)
        ]

    def pick(self, slot: Interval, clinic: Clinic, active: bool) -> Person | None:
        if active and (person := self._demo_person_for(slot, clinic)) is not None:
            return person
        for _ in range(10):
            patient = self.rng.choice(self.patients)
            if not active:
                return patient, None
            if self._can_take(patient.pk, None, slot, clinic):
                self._take(patient.pk, None, slot)
                return patient, None
        return None

    def _demo_person_for(self, slot: Interval, clinic: Clinic) -> Person | None:
        for window_start, dependant in self.demo_windows:
            window = Interval(window_start, window_start + dt.timedelta(days=3))
            dependant_id = dependant.pk if dependant else None
            if window.start <= slot.start < window.end and self._can_take(
                self.demo.pk, dependant_id, slot, clinic
            ):
                self.demo_windows.remove((window_start, dependant))
                self._take(self.demo.pk, dependant_id, slot)
                return self.demo, dependant
        return None

    def _can_take(
        self, patient_id: int, dependant_id: int | None, slot: Interval, clinic: Clinic
    ) -> bool:
        upcoming = self.upcoming[(patient_id, dependant_id or 0)]
        if slot.start > self.now and upcoming >= clinic.max_upcoming_per_patient:
            return False
        return not any(slot.overlaps(taken) for taken in self.busy[patient_id])

    def _take(self, patient_id: int, dependant_id: int | None, slot: Interval) -> None:
        self.busy[patient_id].append(slot)
        if slot.start > self.now:
            self.upcoming[(patient_id, dependant_id or 0)] += 1


def book_appointments(
    demo_doctors: Sequence[DemoDoctor],
    patients: Sequence[Patient],
    logins: Logins,
    *,
    weeks: int,
    rng: random.Random,
    now: dt.datetime,
) -> list[Appointment]:
    calendar = PatientCalendar(patients, logins.patient, logins.family, rng, now)
    appointments = []
    for demo in demo_doctors:
        for slot, kind in walk_bookable_time(demo, weeks=weeks, rng=rng, now=now):
            status = demo_status(slot, rng, now)
            active = status not in (Status.CANCELLED_BY_PATIENT, Status.CANCELLED_BY_CLINIC)
            person = calendar.pick(slot, demo.clinic, active)
            if person is not None:
                appointments.append(
                    new_appointment(demo, kind, slot, status, person, logins.staff, rng, now)
                )
    saved: list[Appointment] = bulk_create_with_history(
        appointments, Appointment, default_change_reason=HISTORY_REASON
    )
    return saved


def walk_bookable_time(
    demo: DemoDoctor, *, weeks: int, rng: random.Random, now: dt.datetime
) -> list[tuple[Interval, AppointmentType]]:
    """Booked slots of one doctor, in time order and never overlapping.

    ``free_slots`` lists the doctor's free 15-minute cells; the walk goes through them,
    picks an appointment type, and books it (or leaves that much time free) if all the
    cells it needs are free. Fuller this week than in four weeks, as in real life."""
    zone = demo.clinic.zone
    today = now.astimezone(zone).date()
    first_day = today - dt.timedelta(weeks=PAST_WEEKS)
    last_day = today + dt.timedelta(weeks=weeks)
    range_start, range_end = local_day_bounds(first_day, last_day, zone)
    cells = free_slots(
        weekly=demo.weekly,
        extra=demo.extra,
        time_off=demo.time_off,
        zone=zone,
        first_day=first_day,
        last_day=last_day,
        duration=GRID,
        # Past slots are wanted too, so the window opens at the start of the range.
        window=BookingWindow(
            now=range_start, min_notice=dt.timedelta(0), horizon=range_end - range_start
        ),
    )
    free_starts = {cell.start for cell in cells}
    weights = [BOOKING_WEIGHTS[kind.name] for kind in demo.types]
    booked, free_from = [], range_start
    for cell in cells:
        if cell.start < free_from:
            continue
        kind = rng.choices(demo.types, weights=weights)[0]
        slot = Interval(cell.start, cell.start + kind.duration)
        if not all(slot.start + GRID * n in free_starts for n in range(kind.duration // GRID)):
            continue  # it would run past the end of the shift or into time off
        free_from = slot.end
        if rng.random() < occupancy(slot.start, now):
            booked.append((slot, kind))
    return booked


def occupancy(starts_at: dt.datetime, now: dt.datetime) -> float:
    """The share of time that is booked: high in the past, about half in the coming week,
    falling off further ahead."""
    if starts_at < now:
        return 0.8
    weeks_ahead = (starts_at - now) // dt.timedelta(weeks=1)
    return max(0.1, 0.55 * 0.7**weeks_ahead)


def demo_status(slot: Interval, rng: random.Random, now: dt.datetime) -> Status:
    roll = rng.random()
    if roll < 0.04:
        return Status.CANCELLED_BY_PATIENT
    if roll < 0.05:
        return Status.CANCELLED_BY_CLINIC
    if slot.end > now:
        return Status.BOOKED
    return Status.NO_SHOW if roll < 0.10 else Status.COMPLETED


def new_appointment(
    demo: DemoDoctor,
    kind: AppointmentType,
    slot: Interval,
    status: Status,
    person: Person,
    staff: User,
    rng: random.Random,
    now: dt.datetime,
) -> Appointment:
    patient, dependant = person
    appointment = Appointment(
        patient=patient,
        dependant=dependant,
        doctor=demo.doctor,
        appointment_type=kind,
        starts_at=slot.start,
        ends_at=slot.end,
        status=status,
        reason=rng.choice(VISIT_REASONS),
        # Most patients book themselves; some call and the front desk books for them.
        booked_by_id=staff.pk if rng.random() < 0.15 else patient.user_id,
    )
    if status in (Status.CANCELLED_BY_PATIENT, Status.CANCELLED_BY_CLINIC):
        reasons = (
            CLINIC_CANCELLATION_REASONS
            if status == Status.CANCELLED_BY_CLINIC
            else PATIENT_CANCELLATION_REASONS
        )
        appointment.cancellation_reason = rng.choice(reasons)
        appointment.cancelled_at = min(now, slot.start - dt.timedelta(hours=rng.randint(3, 72)))
        appointment.sequence = 1
    if status != Status.BOOKED:
        # simple-history takes a per-object reason over the default one.
        appointment._change_reason = f"{status.label.lower()} (demo data)"  # type: ignore[attr-defined]
    return appointment


def describe_logins(logins: Logins) -> str:
    lines = ["Logins to try:"]
    for (email, password), role in (
        (ADMIN_LOGIN, "superuser, /admin/"),
        (STAFF_LOGIN, "clinic staff, /staff/"),
        (
            PATIENT_LOGIN,
            "patient with appointments, also for her son and her mother; sign in with "
            "the emailed code",
        ),
    ):
        if email in logins.created:
            lines.append(f"  {email}{f' / {password}' if password else ''}  ({role})")
        else:
            lines.append(f"  {email}  ({role}; existed already, password left unchanged)")
    return "\n".join(lines)
