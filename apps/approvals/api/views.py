"""Integration API of approvals: the inbox, a file's route, and one POST command per act —
review, sign, vote, close a vote, satisfy a condition, delegate (CONVENTIONS §6).

Objects are looked up through the viewer-scoped selectors first (404 for what the caller may
not see), input serializers hold only what a caller may set, and the services decide the rest.
Commands accept an `Idempotency-Key`. A wrong signing password answers 403 and is audited.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import user_list
from apps.applications.selectors import application_get
from apps.approvals import services
from apps.approvals.models import Decision, StepKind, VoteChoice
from apps.approvals.selectors import (
    INBOX_ORDERINGS,
    condition_get,
    inbox_list,
    route_list,
    step_get,
)
from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER, ErrorSerializer
from apps.parties.api.fields import MoneyField
from apps.parties.api.pagination import PAGE_PARAMETERS, paginate, paginated

_RESPONSES_EXTRA = {**COMMAND_ERRORS, **IDEMPOTENCY_ERRORS}
# Signing and voting re-enter the password; too many wrong ones lock both for a while.
_SIGN_RESPONSES = {**_RESPONSES_EXTRA, 429: OpenApiResponse(
    ErrorSerializer, description="`signing_locked`: too many wrong passwords lately; try "
    "again after the time given in `detail`.")}


# --- output -----------------------------------------------------------------------------------

class SignOffSerializer(serializers.Serializer):
    step = serializers.IntegerField(source="step.position")
    signer = serializers.CharField(source="signer.username")
    on_behalf_of = serializers.CharField(source="on_behalf_of.username", allow_null=True,
                                         default=None)
    authority_level = serializers.IntegerField()
    decision = serializers.ChoiceField(choices=Decision.choices)
    amount = MoneyField(allow_null=True)
    rate = serializers.DecimalField(max_digits=6, decimal_places=3, allow_null=True)
    conditions = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField()
    signed_at = serializers.DateTimeField()
    signature = serializers.CharField(help_text="HMAC-SHA256 over `content`, hex.")

    class Meta:
        ref_name = "ApprovalSignOff"


class StepSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=StepKind.choices)
    level = serializers.IntegerField(allow_null=True)
    committee = serializers.CharField(source="committee.code", allow_null=True, default=None)
    label = serializers.CharField()
    state = serializers.CharField()
    opened_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    quorum_impossible_at = serializers.DateTimeField(
        allow_null=True, help_text="Set when fewer eligible committee members than the quorum "
        "remain: the vote can never close (the team leads were alerted).")

    class Meta:
        ref_name = "ApprovalStep"


class ConditionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    state = serializers.CharField()
    satisfied_by = serializers.CharField(source="satisfied_by.username", allow_null=True,
                                         default=None)
    satisfied_at = serializers.DateTimeField(allow_null=True)
    evidence_note = serializers.CharField()
    evidence_document_id = serializers.IntegerField(allow_null=True)

    class Meta:
        ref_name = "ConditionPrecedent"


class RouteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application_id = serializers.IntegerField()
    round = serializers.IntegerField()
    state = serializers.CharField()
    matrix_version = serializers.IntegerField(source="matrix.version")
    rule_row = serializers.IntegerField(source="rule.row")
    grade = serializers.CharField()
    amount_basis = MoneyField(help_text="Group exposure measured when the route was fixed.")
    policy_exception = serializers.BooleanField()
    steps = StepSerializer(many=True, source="steps.all")
    sign_offs = SignOffSerializer(many=True, source="sign_offs.all")
    conditions = ConditionSerializer(many=True, source="conditions.all")

    class Meta:
        ref_name = "ApprovalRoute"


class InboxItemSerializer(serializers.Serializer):
    step = StepSerializer(source="*")
    application_id = serializers.IntegerField(source="route.application_id")
    reference = serializers.CharField(source="route.application.reference")
    enterprise_name = serializers.CharField(source="route.application.enterprise.name")
    product = serializers.CharField(source="route.application.product_version.product.code")
    amount_requested = MoneyField(source="route.application.amount_requested")
    amount_basis = MoneyField(source="route.amount_basis")
    grade = serializers.CharField(source="route.grade")
    policy_exception = serializers.BooleanField(source="route.policy_exception")

    class Meta:
        ref_name = "ApprovalInboxItem"


def _route_of(request, application_id: int) -> Response:
    route = route_list(viewer=request.user, application_id=application_id).first()
    if route is None:
        return Response(None)
    return Response(RouteSerializer(route).data)


# --- reads ------------------------------------------------------------------------------------

class InboxApi(APIView):
    """GET: the steps waiting for the caller's signature or vote."""

    class FilterSerializer(serializers.Serializer):
        product = serializers.CharField(required=False, max_length=50)
        grade = serializers.CharField(required=False, max_length=20)
        kind = serializers.ChoiceField(required=False, choices=StepKind.choices)
        sort = serializers.ChoiceField(required=False, choices=list(INBOX_ORDERINGS))

        class Meta:
            ref_name = "ApprovalInboxFilter"

    @extend_schema(operation_id="approvals_inbox",
                   parameters=[OpenApiParameter("product", str), OpenApiParameter("grade", str),
                               OpenApiParameter("kind", str, enum=StepKind.values),
                               OpenApiParameter("sort", str, enum=list(INBOX_ORDERINGS)),
                               *PAGE_PARAMETERS],
                   responses={200: paginated(InboxItemSerializer, "PaginatedApprovalInbox")})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        ordering = data.pop("sort", "waiting")
        steps = inbox_list(viewer=request.user, filters=data, ordering=ordering)
        return paginate(steps, request, self, InboxItemSerializer)


class RouteApi(APIView):
    """GET: the current (latest) approval route of an application; 404 until it has one
    (a 200 with an empty body matched no documented response)."""

    @extend_schema(operation_id="approvals_route", responses={200: RouteSerializer})
    def get(self, request, application_id: int):
        application_get(viewer=request.user, application_id=application_id)
        route = route_list(viewer=request.user, application_id=application_id).first()
        if route is None:
            raise NotFound(_("This application has no approval route yet."))
        return Response(RouteSerializer(route).data)


# --- commands ---------------------------------------------------------------------------------

class ReviewSendApi(IdempotentCommandMixin, APIView):
    """The reviewer's opinion; the file goes to approval and its route is fixed."""

    class ExceptionSerializer(serializers.Serializer):
        rule = serializers.CharField(max_length=200)
        actual_value = serializers.CharField(max_length=200, required=False, default="")
        reason = serializers.CharField(max_length=2000)

        class Meta:
            ref_name = "PolicyExceptionInput"

    class InputSerializer(serializers.Serializer):
        risks = serializers.CharField(max_length=4000)
        mitigations = serializers.CharField(max_length=4000, required=False, default="")
        proposed_amount = MoneyField(required=False, allow_null=True, default=None)
        proposed_term_months = serializers.IntegerField(required=False, allow_null=True,
                                                        default=None, min_value=1)
        proposed_rate = serializers.DecimalField(max_digits=6, decimal_places=3,
                                                 required=False, allow_null=True, default=None)
        collateral = serializers.CharField(max_length=2000, required=False, default="")
        conditions = serializers.ListField(child=serializers.CharField(max_length=500),
                                           required=False, default=list, max_length=50)
        comment = serializers.CharField(max_length=2000, required=False, default="")
        exceptions = serializers.ListField(required=False, default=list, max_length=20,
                                           child=serializers.DictField())

        class Meta:
            ref_name = "ReviewSendInput"

        def validate_exceptions(self, value):
            parsed = []
            for item in value:
                serializer = ReviewSendApi.ExceptionSerializer(data=item)
                serializer.is_valid(raise_exception=True)
                parsed.append(dict(serializer.validated_data))
            return parsed

    @extend_schema(operation_id="approvals_review_send", request=InputSerializer,
                   responses={200: RouteSerializer, **_RESPONSES_EXTRA},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        application_get(viewer=request.user, application_id=application_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.review_send_to_approval(application_id=application_id, actor=request.user,
                                         **data.validated_data)
        return _route_of(request, application_id)


class ReviewReturnApi(IdempotentCommandMixin, APIView):
    """The reviewer returns the file for rework with comments."""

    class InputSerializer(serializers.Serializer):
        comment = serializers.CharField(max_length=2000)
        risks = serializers.CharField(max_length=4000, required=False, default="")

        class Meta:
            ref_name = "ReviewReturnInput"

    class OutputSerializer(serializers.Serializer):
        application_id = serializers.IntegerField()
        outcome = serializers.CharField()

        class Meta:
            ref_name = "ReviewReturnOutput"

    @extend_schema(operation_id="approvals_review_return", request=InputSerializer,
                   responses={200: OutputSerializer, **_RESPONSES_EXTRA},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        application_get(viewer=request.user, application_id=application_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        opinion = services.review_return(application_id=application_id, actor=request.user,
                                         **data.validated_data)
        return Response(self.OutputSerializer(opinion).data)


class StepSignApi(IdempotentCommandMixin, APIView):
    """Sign an approver step: approve (maybe for less, with extra conditions), return or
    reject. The password is re-entered; a wrong one is refused (403) and audited."""

    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=Decision.choices)
        reason = serializers.CharField(max_length=4000)
        password = serializers.CharField(write_only=True, trim_whitespace=False,
                                         style={"input_type": "password"})
        amount = MoneyField(required=False, allow_null=True, default=None)
        rate = serializers.DecimalField(max_digits=6, decimal_places=3, required=False,
                                        allow_null=True, default=None)
        conditions = serializers.ListField(child=serializers.CharField(max_length=500),
                                           required=False, default=list, max_length=50)

        class Meta:
            ref_name = "StepSignInput"

    @extend_schema(operation_id="approvals_step_sign", request=InputSerializer,
                   responses={200: RouteSerializer, **_SIGN_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, step_id: int):
        step = step_get(viewer=request.user, step_id=step_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.step_sign(step_id=step.pk, actor=request.user, **data.validated_data)
        return _route_of(request, step.route.application_id)


class VoteCastApi(IdempotentCommandMixin, APIView):
    """Cast a named committee ballot (sealed until the vote closes); reasons for a no."""

    class InputSerializer(serializers.Serializer):
        choice = serializers.ChoiceField(choices=VoteChoice.choices)
        opinion = serializers.CharField(max_length=4000, required=False, default="",
                                        allow_blank=True)
        password = serializers.CharField(write_only=True, trim_whitespace=False,
                                         style={"input_type": "password"})

        class Meta:
            ref_name = "VoteCastInput"

    @extend_schema(operation_id="approvals_vote_cast", request=InputSerializer,
                   responses={200: RouteSerializer, **_SIGN_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, step_id: int):
        step = step_get(viewer=request.user, step_id=step_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.committee_vote_cast(step_id=step.pk, actor=request.user, **data.validated_data)
        return _route_of(request, step.route.application_id)


class VoteCloseApi(IdempotentCommandMixin, APIView):
    """The chair closes a committee vote once the quorum has voted; the pass rule decides."""

    @extend_schema(operation_id="approvals_vote_close", request=None,
                   responses={200: RouteSerializer, **_RESPONSES_EXTRA},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, step_id: int):
        step = step_get(viewer=request.user, step_id=step_id)
        services.committee_vote_close(step_id=step.pk, actor=request.user)
        return _route_of(request, step.route.application_id)


class ConditionSatisfyApi(IdempotentCommandMixin, APIView):
    """Mark a condition precedent satisfied, with evidence (the disbursement unit)."""

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=2000)
        document_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)

        class Meta:
            ref_name = "ConditionSatisfyInput"

    @extend_schema(operation_id="approvals_condition_satisfy", request=InputSerializer,
                   responses={200: ConditionSerializer, **_RESPONSES_EXTRA},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, condition_id: int):
        condition = condition_get(viewer=request.user, condition_id=condition_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = None
        if data.validated_data.get("document_id"):
            from apps.documents.selectors import document_list

            document = document_list(viewer=request.user).filter(
                pk=data.validated_data["document_id"]).first()
            if document is None:
                raise ValidationError({"document_id": [_("Not found.")]})
        condition = services.condition_satisfy(condition_id=condition.pk, actor=request.user,
                                               note=data.validated_data["note"],
                                               document=document)
        return Response(ConditionSerializer(condition).data)


class DelegationGrantApi(IdempotentCommandMixin, APIView):
    """Lend your authority level to another approver for an absence (time-boxed)."""

    class InputSerializer(serializers.Serializer):
        delegate_id = serializers.IntegerField(min_value=1)
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        reason = serializers.CharField(max_length=2000)

        class Meta:
            ref_name = "DelegationGrantInput"

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        delegator = serializers.CharField(source="delegator.username")
        delegate = serializers.CharField(source="delegate.username")
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()

        class Meta:
            ref_name = "Delegation"

    @extend_schema(operation_id="approvals_delegation_grant", request=InputSerializer,
                   responses={201: OutputSerializer, **_RESPONSES_EXTRA},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        delegate = user_list(viewer=request.user).filter(pk=fields.pop("delegate_id")).first()
        if delegate is None:
            raise ValidationError({"delegate_id": [_("Not found.")]})
        delegation = services.delegation_grant(delegator=request.user, delegate=delegate,
                                               actor=request.user, **fields)
        return Response(self.OutputSerializer(delegation).data, status=201)
