"""Signing in to the JSON API: patients by emailed code, staff by password and
authenticator code; both get a bearer token. And the patient's own profile."""

from typing import Any

from django.conf import settings
from django.utils import translation
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import languages, services, staff_services
from accounts.api_tokens import issue_token, revoke_token
from accounts.models import ApiToken, Authenticator, Dependant, Patient, User
from accounts.selectors import dependants_of, own_dependant, patient_of
from clinic.api.fields import problems
from clinic.api.permissions import IsPatient
from clinic.api.throttling import AuthAddressThrottle, CacheThrottle
from clinic.client_address import client_address


class EmailSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)


class OtpVerifySerializer(EmailSerializer):
    code = serializers.CharField(max_length=20, help_text="The 6-digit code from the email.")


class StaffTokenRequestSerializer(EmailSerializer):
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    code = serializers.CharField(max_length=20, help_text="The authenticator app's code.")


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`.")
    expires_at = serializers.DateTimeField()


class AcceptedSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


class ProfileSerializer(serializers.ModelSerializer[Patient]):
    """The profile as it is: a new patient's name and phone are empty, and their date of
    birth is null, until they complete it."""

    email = serializers.EmailField(source="user.email", read_only=True)
    is_complete = serializers.BooleanField(
        read_only=True, help_text="Name, phone and date of birth are needed to book."
    )
    # Not required: a client that does not send it leaves it as it is.
    sms_opt_in = serializers.BooleanField(
        required=False,
        help_text="Reminders and the clinic's cancellations also by text message to the "
        "phone, where the clinic sends text messages. Off unless set.",
    )
    language = serializers.ChoiceField(
        source="user.message_language",
        choices=settings.LANGUAGES,
        required=False,
        help_text=(
            "The language of every email to the patient. Set at the first sign-in from "
            "Accept-Language; omitted in a PUT, it stays as it is."
        ),
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "email",
            "full_name",
            "phone",
            "date_of_birth",
            "sms_opt_in",
            "is_complete",
            "language",
        ]
        read_only_fields = ["id"]


class ProfileUpdateSerializer(ProfileSerializer):
    """A complete profile: every field required. The model's validators check the phone
    number and the date of birth, as on the profile page."""

    class Meta(ProfileSerializer.Meta):
        extra_kwargs = {
            "full_name": {"required": True, "allow_blank": False},
            "phone": {"required": True, "allow_blank": False},
            "date_of_birth": {"required": True, "allow_null": False},
        }


class AuthEmailThrottle(CacheThrottle):
    """Sign-in requests per email address, whoever sends them (hashed in the cache key)."""

    scope = "auth_email"

    def identity(self, request: Request) -> str | None:
        data = request.data
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None  # the serializer refuses the request
        return services.normalize_email(email)


class _SignInView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AuthAddressThrottle, AuthEmailThrottle)


class OtpRequestView(_SignInView):
    @extend_schema(
        operation_id="auth_otp_request",
        request=EmailSerializer,
        responses={202: AcceptedSerializer},
        tags=["auth"],
        summary="Email a sign-in code",
        description="Always 202, whether or not the address has an account.",
    )
    def post(self, request: Request) -> Response:
        form = EmailSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # The email is for a person: in their language, or before their first sign-in in
        # the one their client asks for (the API itself answers in English).
        with translation.override(languages.of_request(request)):
            services.request_login_code(
                email=form.validated_data["email"], client_address=client_address(request)
            )
        detail = "If this address can sign in, a code is on its way. It is valid 10 minutes."
        return Response({"detail": detail}, status=status.HTTP_202_ACCEPTED)


def _token_response(
    user: User, kind: ApiToken.Kind, device: Authenticator | None = None
) -> Response:
    token, record = issue_token(user=user, kind=kind, device=device)
    return Response(TokenSerializer({"token": token, "expires_at": record.expires_at}).data)


class OtpVerifyView(_SignInView):
    @extend_schema(
        operation_id="auth_otp_verify",
        request=OtpVerifySerializer,
        responses={200: TokenSerializer},
        tags=["auth"],
        summary="Exchange an emailed code for a token",
    )
    def post(self, request: Request) -> Response:
        form = OtpVerifySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user, _device = services.verify_login_code(
            email=form.validated_data["email"],
            code=form.validated_data["code"],
            client_address=client_address(request),
        )
        # A first sign-in stores the request's language (Accept-Language) as theirs.
        languages.language_on_sign_in(user=user, language=languages.of_request(request))
        return _token_response(user, ApiToken.Kind.PATIENT)


class StaffTokenView(_SignInView):
    @extend_schema(
        operation_id="auth_staff_token",
        request=StaffTokenRequestSerializer,
        responses={200: TokenSerializer},
        tags=["auth"],
        summary="Staff: exchange password and authenticator code for a token",
        description="The authenticator app must have been set up on the staff pages.",
    )
    def post(self, request: Request) -> Response:
        form = StaffTokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = staff_services.authenticate_staff(
            request=request._request,
            email=form.validated_data["email"],
            password=form.validated_data["password"],
            client_address=client_address(request),
        )
        device = staff_services.verify_authenticator_code(
            user=user, code=form.validated_data["code"]
        )
        return _token_response(user, ApiToken.Kind.STAFF, device)


class LogoutSerializer(serializers.Serializer[Any]):
    everywhere = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also end every other token and every web session of the account.",
    )


class LogoutView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="auth_logout",
        request=LogoutSerializer,
        responses={204: OpenApiResponse(description="The token no longer works.")},
        tags=["auth"],
        summary="Revoke the token this request was made with (or, everywhere, all)",
    )
    def post(self, request: Request) -> Response:
        assert isinstance(request.auth, ApiToken)
        assert isinstance(request.user, User)
        form = LogoutSerializer(data=request.data or {})
        form.is_valid(raise_exception=True)
        if form.validated_data["everywhere"]:
            services.sign_out_everywhere(user=request.user)
        else:
            revoke_token(request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileView(APIView):
    permission_classes = (IsPatient,)

    @extend_schema(operation_id="me_retrieve", responses=ProfileSerializer, tags=["me"])
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        return Response(ProfileSerializer(patient_of(request.user)).data)

    @extend_schema(
        operation_id="me_update",
        request=ProfileUpdateSerializer,
        responses=ProfileSerializer,
        tags=["me"],
        summary="Set name, phone, date of birth (needed before the first booking) and language",
    )
    def put(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        patient = patient_of(request.user)
        form = ProfileUpdateSerializer(patient, data=request.data)
        form.is_valid(raise_exception=True)
        services.update_patient_profile(
            patient=patient,
            full_name=form.validated_data["full_name"],
            phone=form.validated_data["phone"],
            date_of_birth=form.validated_data["date_of_birth"],
            sms_opt_in=form.validated_data.get("sms_opt_in"),
            language=form.validated_data.get("user", {}).get("message_language"),
        )
        return Response(ProfileSerializer(patient).data)


class DependantSerializer(serializers.ModelSerializer[Dependant]):
    """Someone the patient books for. The model's validators check the name and the date
    of birth, as on the profile page."""

    class Meta:
        model = Dependant
        fields = ["id", "full_name", "date_of_birth", "relationship"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "full_name": {"required": True, "allow_blank": False},
            "date_of_birth": {"required": True, "allow_null": False},
            "relationship": {"required": False},
        }


def _caller(request: Request) -> Patient:
    assert isinstance(request.user, User)
    return patient_of(request.user)


def _own_dependant_or_404(request: Request, pk: int) -> Dependant:
    # Someone else's is "not found", as it is on the pages.
    found = own_dependant(_caller(request), pk)
    if found is None:
        raise NotFound("No such person among the people you book for.")
    return found


class DependantList(APIView):
    permission_classes = (IsPatient,)

    @extend_schema(
        operation_id="me_dependants_list",
        responses=DependantSerializer(many=True),
        tags=["me"],
        summary="The people you book for",
    )
    def get(self, request: Request) -> Response:
        return Response(DependantSerializer(dependants_of(_caller(request)), many=True).data)

    @extend_schema(
        operation_id="me_dependants_create",
        request=DependantSerializer,
        responses={201: DependantSerializer},
        tags=["me"],
        summary="Add someone you book for (a child, a relative in your care)",
    )
    def post(self, request: Request) -> Response:
        form = DependantSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        dependant = services.add_dependant(
            patient=_caller(request),
            full_name=form.validated_data["full_name"],
            date_of_birth=form.validated_data["date_of_birth"],
            relationship=form.validated_data.get("relationship", Dependant.Relationship.CHILD),
        )
        return Response(
            DependantSerializer(dependant).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/me/dependants/{dependant.pk}"},
        )


class DependantDetail(APIView):
    permission_classes = (IsPatient,)

    @extend_schema(
        operation_id="me_dependants_retrieve", responses=DependantSerializer, tags=["me"]
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(DependantSerializer(_own_dependant_or_404(request, pk)).data)

    @extend_schema(
        operation_id="me_dependants_update",
        request=DependantSerializer,
        responses=DependantSerializer,
        tags=["me"],
        summary="Change the name, date of birth or relationship",
    )
    def put(self, request: Request, pk: int) -> Response:
        dependant = _own_dependant_or_404(request, pk)
        form = DependantSerializer(dependant, data=request.data)
        form.is_valid(raise_exception=True)
        services.update_dependant(
            dependant=dependant,
            full_name=form.validated_data["full_name"],
            date_of_birth=form.validated_data["date_of_birth"],
            relationship=form.validated_data.get("relationship", dependant.relationship),
        )
        return Response(DependantSerializer(dependant).data)

    @extend_schema(
        operation_id="me_dependants_destroy",
        responses={204: OpenApiResponse(description="Removed from your list."), **problems(409)},
        tags=["me"],
        summary="Remove someone from your list (409 while appointments name them)",
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.remove_dependant(dependant=_own_dependant_or_404(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
