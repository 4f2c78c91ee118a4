"""Integration API for loan applications: list, read, open and edit drafts, and one POST
command per move of the lifecycle (CONVENTIONS §6).

Views stay thin: every object is looked up through the viewer-scoped selectors first (another
branch's file answers 404, its existence not revealed), input serializers carry only what a
caller may set (never the state, the decision maker or the eligibility), and the services
decide the rest — permission, segregation of duties, product terms, guards — with their
refusals rendered by `apps.core.exceptions`. Commands accept an `Idempotency-Key`.
"""

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import user_list
from apps.applications import services
from apps.applications.api.actions import ALL_ACTIONS, available_actions
from apps.applications.selectors import application_get, application_list
from apps.applications.states import ApplicationState
from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER
from apps.parties.api.fields import MoneyField
from apps.parties.api.pagination import PAGE_PARAMETERS, paginate, paginated
from apps.parties.selectors import enterprise_get
from apps.products.models import CollateralType, RepaymentMethod
from apps.products.selectors import product_versions_in_force

COMMENT_MAX_LENGTH = 2000


# --- output -----------------------------------------------------------------------------------

class ApplicationSummarySerializer(serializers.Serializer):
    """One row of the list: only what `application_list` already joined (no extra queries)."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    state = serializers.ChoiceField(choices=ApplicationState.choices)
    enterprise_id = serializers.IntegerField()
    enterprise_name = serializers.CharField(source="enterprise.name")
    product = serializers.CharField(source="product_version.product.code")
    product_version = serializers.IntegerField(source="product_version.version")
    product_version_id = serializers.IntegerField()
    branch = serializers.CharField(source="branch.code")
    account_manager = serializers.CharField(source="account_manager.username")
    currency = serializers.CharField()
    amount_requested = MoneyField(allow_null=True)
    term_months = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ApplicationSummary"


class ApplicationDetailSerializer(ApplicationSummarySerializer):
    """The whole file as the caller may see it, with the commands open to them now."""

    purpose = serializers.CharField()
    repayment_method = serializers.CharField()
    collateral_type = serializers.CharField()
    amount_approved = MoneyField(allow_null=True)
    rate_approved = serializers.DecimalField(max_digits=6, decimal_places=3, allow_null=True,
                                             help_text="Annual rate, percent.")
    eligibility = serializers.JSONField(
        help_text="The evaluation stored at submission: product, version, date, and each "
                  "condition with expected and actual values. Empty before submission.")
    reviewed_by = serializers.CharField(source="reviewed_by.username", allow_null=True,
                                        default=None)
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True,
                                       default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    closed_reason = serializers.CharField()
    updated_at = serializers.DateTimeField()
    actions = serializers.SerializerMethodField(
        help_text="Commands you may attempt now (POST …/{id}/<action>/); each still checks "
                  "its business conditions.")

    class Meta:
        ref_name = "ApplicationDetail"

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(
        choices=ALL_ACTIONS)))
    def get_actions(self, application) -> list[str]:
        return available_actions(application, self.context["viewer"])


def _detail(application, request, status_code=status.HTTP_200_OK) -> Response:
    data = ApplicationDetailSerializer(application, context={"viewer": request.user}).data
    return Response(data, status=status_code)


class ApplicationTermsSerializer(serializers.Serializer):
    """The terms a caller may set on a draft (services.EDITABLE_FIELDS); the product version
    decides which values are allowed, and the service says so per field."""

    amount_requested = MoneyField(required=False, allow_null=True)
    term_months = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                           max_value=600)
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    repayment_method = serializers.ChoiceField(required=False, allow_blank=True,
                                               choices=RepaymentMethod.choices)
    collateral_type = serializers.ChoiceField(required=False, allow_blank=True,
                                              choices=CollateralType.choices)


def _not_found(field: str) -> ValidationError:
    # The same message for "does not exist" and "not yours to see": existence is not revealed.
    return ValidationError({field: [_("Not found.")]})


# --- list, read, open, edit -------------------------------------------------------------------

class ApplicationListApi(IdempotentCommandMixin, APIView):
    """GET: the applications the caller may see, newest first. POST: open a draft."""

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=ApplicationState.choices, required=False)
        enterprise_id = serializers.IntegerField(required=False, min_value=1)

        class Meta:
            ref_name = "ApplicationFilter"

    OutputSerializer = ApplicationSummarySerializer

    class InputSerializer(ApplicationTermsSerializer):
        enterprise_id = serializers.IntegerField(min_value=1)
        product_version_id = serializers.IntegerField(
            min_value=1, help_text="The version in force, from GET /api/v1/products/.")
        account_manager_id = serializers.IntegerField(
            required=False, min_value=1, help_text="Defaults to you.")

        class Meta:
            ref_name = "ApplicationCreateInput"

    @extend_schema(
        operation_id="applications_list",
        parameters=[OpenApiParameter("state", str, enum=ApplicationState.values),
                    OpenApiParameter("enterprise_id", int), *PAGE_PARAMETERS],
        responses={200: paginated(ApplicationSummarySerializer, "PaginatedApplicationList")},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        applications = application_list(viewer=request.user, filters=filters.validated_data)
        return paginate(applications, request, self, self.OutputSerializer)

    @extend_schema(
        operation_id="applications_create", request=InputSerializer,
        responses={201: ApplicationDetailSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS},
        parameters=[IDEMPOTENCY_KEY_HEADER],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        try:
            enterprise = enterprise_get(viewer=request.user,
                                        enterprise_id=fields.pop("enterprise_id"))
        except Http404 as exc:  # not visible, or does not exist: the same answer
            raise _not_found("enterprise_id") from exc
        version = product_versions_in_force(on=timezone.localdate()).filter(
            pk=fields.pop("product_version_id")).first()
        if version is None:
            raise ValidationError({"product_version_id": [
                _("No product version in force with this id.")]})
        account_manager = None
        if "account_manager_id" in fields:
            account_manager = user_list(viewer=request.user).filter(
                pk=fields.pop("account_manager_id")).first()
            if account_manager is None:
                raise _not_found("account_manager_id")
        application = services.application_create(
            enterprise=enterprise, product_version=version, actor=request.user,
            account_manager=account_manager, **fields)
        return _detail(application, request, status.HTTP_201_CREATED)


class ApplicationDetailApi(APIView):
    """GET: one application with its eligibility record, amounts and the caller's commands.
    PATCH: edit the terms of a draft or returned application."""

    OutputSerializer = ApplicationDetailSerializer

    class InputSerializer(ApplicationTermsSerializer):
        class Meta:
            ref_name = "ApplicationUpdateInput"

    @extend_schema(operation_id="applications_retrieve", responses={200: OutputSerializer})
    def get(self, request, application_id: int):
        application = application_get(viewer=request.user, application_id=application_id)
        return _detail(application, request)

    @extend_schema(operation_id="applications_partial_update", request=InputSerializer,
                   responses={200: OutputSerializer, **COMMAND_ERRORS})
    def patch(self, request, application_id: int):
        application_get(viewer=request.user, application_id=application_id)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        application = services.application_update(
            application_id=application_id, actor=request.user,
            **data.validated_data)
        return _detail(application, request)


# --- commands: one per move -------------------------------------------------------------------

class ApplicationCommandApi(IdempotentCommandMixin, APIView):
    """Base of the lifecycle commands: visible first (404), input valid (400), then the
    service, whose refusals come back as 403/409 with the error body."""

    OutputSerializer = ApplicationDetailSerializer

    class InputSerializer(serializers.Serializer):
        pass

    def command(self, request, application_id: int, service, **extra):
        application_get(viewer=request.user, application_id=application_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = service(application_id=application_id, actor=request.user,
                              **data.validated_data, **extra)
        return _detail(application, request)


def _comment(*, required: bool = False):
    return serializers.CharField(required=required, allow_blank=not required,
                                 max_length=COMMENT_MAX_LENGTH)


def _reason():
    return serializers.CharField(max_length=COMMENT_MAX_LENGTH)


_RESPONSES = {200: ApplicationDetailSerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS}


class ApplicationSubmitApi(ApplicationCommandApi):
    """Submit a draft: required terms present, within the product, entry conditions met
    today (the evaluation is stored). A failed eligibility check is 409 with the reasons."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApplicationSubmitInput"

    @extend_schema(operation_id="applications_submit", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        return self.command(request, application_id, services.application_submit)


class ApplicationStartInvestigationApi(ApplicationCommandApi):
    """Accept the submitted file for pre-lending investigation (贷前调查)."""

    class InputSerializer(serializers.Serializer):
        comment = _comment()

        class Meta:
            ref_name = "ApplicationStartInvestigationInput"

    @extend_schema(operation_id="applications_start_investigation", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        return self.command(request, application_id,
                            services.application_start_investigation)


class ApplicationSendToReviewApi(ApplicationCommandApi):
    """Hand the investigated file to an independent risk reviewer."""

    class InputSerializer(serializers.Serializer):
        comment = _comment()

        class Meta:
            ref_name = "ApplicationSendToReviewInput"

    @extend_schema(operation_id="applications_send_to_review", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        return self.command(request, application_id, services.application_send_to_review)


class ApplicationReturnApi(ApplicationCommandApi):
    """Return the file to the account manager for rework; the comment says what to fix."""

    class InputSerializer(serializers.Serializer):
        comment = _comment(required=True)

        class Meta:
            ref_name = "ApplicationReturnInput"

    @extend_schema(operation_id="applications_return", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        return self.command(request, application_id, services.application_return_for_rework)


class ApplicationResumeInvestigationApi(ApplicationCommandApi):
    """Take a returned file back into investigation."""

    class InputSerializer(serializers.Serializer):
        comment = _comment()

        class Meta:
            ref_name = "ApplicationResumeInvestigationInput"

    @extend_schema(operation_id="applications_resume_investigation", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        return self.command(request, application_id,
                            services.application_resume_investigation)


class ApplicationSendToApprovalApi(ApplicationCommandApi):
    """The reviewer recommends the file to the approver; the comment is the opinion."""

    class InputSerializer(serializers.Serializer):
        comment = _comment()

        class Meta:
            ref_name = "ApplicationSendToApprovalInput"

    @extend_schema(operation_id="applications_send_to_approval", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        return self.command(request, application_id, services.application_send_to_approval)


class ApplicationApproveApi(ApplicationCommandApi):
    """Approve, for the amount requested or less, at a rate within the product's range."""

    class InputSerializer(serializers.Serializer):
        reason = _reason()
        amount = MoneyField(required=False, help_text="Defaults to the amount requested.")
        rate = serializers.DecimalField(max_digits=6, decimal_places=3, required=False,
                                        help_text="Annual rate, percent; defaults to the "
                                                  "product's minimum.")

        class Meta:
            ref_name = "ApplicationApproveInput"

    @extend_schema(operation_id="applications_approve", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        return self.command(request, application_id, services.application_approve)


class ApplicationRejectApi(ApplicationCommandApi):
    """Decline, at review or at approval, with the reason."""

    class InputSerializer(serializers.Serializer):
        reason = _reason()

        class Meta:
            ref_name = "ApplicationRejectInput"

    @extend_schema(operation_id="applications_reject", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        return self.command(request, application_id, services.application_reject)


class ApplicationContractApi(ApplicationCommandApi):
    """Record that the loan contract is signed."""

    class InputSerializer(serializers.Serializer):
        comment = _comment()

        class Meta:
            ref_name = "ApplicationContractInput"

    @extend_schema(operation_id="applications_contract", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        return self.command(request, application_id, services.application_contract)


class ApplicationDisburseApi(ApplicationCommandApi):
    """Record the payout by the independent disbursement unit (独立放款)."""

    class InputSerializer(serializers.Serializer):
        comment = _comment()

        class Meta:
            ref_name = "ApplicationDisburseInput"

    @extend_schema(operation_id="applications_disburse", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        return self.command(request, application_id, services.application_disburse)


class ApplicationWithdrawApi(ApplicationCommandApi):
    """Withdraw before a decision, with the reason (the customer's or the bank's)."""

    class InputSerializer(serializers.Serializer):
        reason = _reason()

        class Meta:
            ref_name = "ApplicationWithdrawInput"

    @extend_schema(operation_id="applications_withdraw", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        return self.command(request, application_id, services.application_withdraw)


class ApplicationReassignApi(ApplicationCommandApi):
    """A team lead hands the file to another account manager of the branch."""

    class InputSerializer(serializers.Serializer):
        account_manager_id = serializers.IntegerField(min_value=1)

        class Meta:
            ref_name = "ApplicationReassignInput"

    @extend_schema(operation_id="applications_reassign", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        application_get(viewer=request.user, application_id=application_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account_manager = user_list(viewer=request.user).filter(
            pk=data.validated_data["account_manager_id"]).first()
        if account_manager is None:
            raise _not_found("account_manager_id")
        application = services.application_reassign(
            application_id=application_id, account_manager=account_manager, actor=request.user)
        return _detail(application, request)
