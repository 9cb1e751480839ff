from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from accounts.validators import validate_date_of_birth, validate_phone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who logs in. The email address is the login, stored lower-cased."""

    email = models.EmailField(unique=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can log into the staff pages and the admin site."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()


class Patient(models.Model):
    """The patient profile of a user: who the appointments are for.

    Name, phone and date of birth may be empty right after the first login; the booking
    pages ask for them once before the first booking (``is_complete``).
    """

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="patient")
    full_name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True, validators=[validate_phone])
    date_of_birth = models.DateField(null=True, blank=True, validators=[validate_date_of_birth])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["full_name"]
        indexes = [models.Index(fields=["full_name"]), models.Index(fields=["phone"])]

    def __str__(self) -> str:
        return self.full_name or self.user.email

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def is_complete(self) -> bool:
        return bool(self.full_name and self.phone and self.date_of_birth)


class StaffRole(models.TextChoices):
    STAFF = "staff", "Staff"
    CLINIC_ADMIN = "clinic_admin", "Clinic administrator"


class StaffMembership(models.Model):
    """A staff user's place in one clinic: the clinics whose appointments and doctors the
    staff pages show them (``accounts.selectors.staff_clinics``).

    A user may belong to several clinics. A doctor who signs in is a staff user with a
    membership of their clinic, linked to their ``Doctor`` by ``Doctor.user``. Superusers
    see every clinic without memberships."""

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
        # Only staff can sign in to the staff pages; a patient's membership would do nothing.
        limit_choices_to={"is_staff": True},
    )
    clinic = models.ForeignKey(
        "scheduling.Clinic", on_delete=models.CASCADE, related_name="staff_memberships"
    )
    role = models.CharField(max_length=20, choices=StaffRole.choices, default=StaffRole.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["clinic__name", "user__email"]
        constraints = [
            # Also the index behind "the clinics of this user".
            models.UniqueConstraint(fields=["user", "clinic"], name="staff_membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=StaffRole.values), name="staff_membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.clinic} ({self.get_role_display()})"
