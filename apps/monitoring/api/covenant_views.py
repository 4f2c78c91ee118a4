"""Integration API for covenant checks and annual reviews (viewer-scoped, `{code, detail,
fields}` errors), consistent with the rest of the monitoring API.

Statuses: 200 success; 201 covenant added; 400 invalid input (field errors: a missing note,
an unknown result, a document outside the loan's file); 401 not signed in; 403 not your move
(not a post-loan officer of the branch, or a second person who is the submitter), always
before 409; 404 not found or in another branch (existence not revealed); 409 not possible in
this state (`transition_not_allowed`) or a schedule policy not in force
(`policy_not_configured`); 422 Idempotency-Key reused with another body. Commands take an
`Idempotency-Key`.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER
from apps.monitoring import covenant_selectors as selectors
from apps.monitoring import covenant_services as services
from apps.monitoring.covenant_states import (
    AnnualReviewState,
    CovenantCheckState,
    CovenantKind,
    CovenantResult,
    CovenantSource,
    CovenantState,
    ReviewOutcome,
)
from apps.monitoring.selectors import loan_get
from apps.parties.api.pagination import PAGE_PARAMETERS, paginate, paginated

TEXT_MAX = services.TEXT_MAX
_RESPONSES = {**COMMAND_ERRORS, **IDEMPOTENCY_ERRORS}


class _DueWorkFields(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    loan = serializers.CharField(source="loan.loan_number")
    due_date = serializers.DateField()
    policy_basis = serializers.JSONField()
    note = serializers.CharField()
    evidence_documents = serializers.ListField(child=serializers.IntegerField())
    submitted_by = serializers.CharField(source="submitted_by.username", allow_null=True,
                                         default=None)
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True,
                                       default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    reminded_at = serializers.DateTimeField(allow_null=True)
    overdue_at = serializers.DateTimeField(allow_null=True)
    escalated_at = serializers.DateTimeField(allow_null=True)
    done_on_time = serializers.BooleanField(allow_null=True)


class _WithActions(serializers.Serializer):
    """Detail and command answers only: the moves need per-row permission reads, which a
    list of many rows must not pay (list query counts stay flat)."""

    available_actions = serializers.SerializerMethodField()

    def get_available_actions(self, obj) -> list[str]:
        request = self.context.get("request")
        return selectors.available_actions(obj, request.user) if request else []


class CovenantCheckSerializer(_DueWorkFields):
    covenant_id = serializers.IntegerField()
    kind = serializers.ChoiceField(source="covenant.kind", choices=CovenantKind.choices)
    covenant = serializers.CharField(source="covenant.text")
    state = serializers.ChoiceField(choices=CovenantCheckState.choices)
    result = serializers.CharField(help_text="complied, breached, or empty before submission")

    class Meta:
        ref_name = "MonitoringCovenantCheck"


class AnnualReviewSerializer(_DueWorkFields):
    year = serializers.IntegerField()
    anniversary = serializers.DateField()
    state = serializers.ChoiceField(choices=AnnualReviewState.choices)
    outcome = serializers.CharField(help_text="satisfactory, concerns, or empty")

    class Meta:
        ref_name = "MonitoringAnnualReview"


class CovenantCheckDetailSerializer(_WithActions, CovenantCheckSerializer):
    class Meta:
        ref_name = "MonitoringCovenantCheckDetail"


class AnnualReviewDetailSerializer(_WithActions, AnnualReviewSerializer):
    class Meta:
        ref_name = "MonitoringAnnualReviewDetail"


class CovenantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CovenantKind.choices)
    text = serializers.CharField()
    source = serializers.ChoiceField(choices=CovenantSource.choices)
    starts_on = serializers.DateField()
    active = serializers.BooleanField()
    state = serializers.ChoiceField(choices=CovenantState.choices)
    waived_until = serializers.DateField(allow_null=True)
    ended_on = serializers.DateField(allow_null=True)

    class Meta:
        ref_name = "MonitoringCovenant"


class LoanCovenantsSerializer(serializers.Serializer):
    covenants = CovenantSerializer(many=True)
    checks = CovenantCheckSerializer(many=True)
    reviews = AnnualReviewSerializer(many=True)

    class Meta:
        ref_name = "MonitoringLoanCovenants"


class LoanCovenantsApi(IdempotentCommandMixin, APIView):
    """GET: a loan's covenants, their checks and its annual reviews. POST: a post-loan
    officer of the branch adds a covenant; its first check is scheduled from policy."""

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=CovenantKind.choices)
        text = serializers.CharField(max_length=TEXT_MAX)

        class Meta:
            ref_name = "MonitoringCovenantAddInput"

    @extend_schema(operation_id="monitoring_loan_covenants",
                   responses={200: LoanCovenantsSerializer})
    def get(self, request, loan_id: int):
        loan = loan_get(loan_id=loan_id, viewer=request.user)
        section = selectors.covenant_section(loan=loan, viewer=request.user)
        checks = [c for cov in section["covenants"] for c in cov.history]
        return Response(LoanCovenantsSerializer(
            {"covenants": section["covenants"], "checks": checks,
             "reviews": section["reviews"]}, context={"request": request}).data)

    @extend_schema(operation_id="monitoring_covenant_add", request=InputSerializer,
                   responses={201: CovenantSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, loan_id: int):
        loan = loan_get(loan_id=loan_id, viewer=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        covenant = services.covenant_add(loan_id=loan.pk, actor=request.user,
                                         **data.validated_data)
        return Response(CovenantSerializer(covenant).data, status=201)


_MINE = OpenApiParameter("due", str, enum=["mine"], required=False,
                         description="`mine`: the caller's work list (due within 30 days "
                                     "or overdue).")


class CovenantCheckListApi(APIView):
    """Covenant checks in the caller's branches; `?due=mine` for the caller's work list."""

    @extend_schema(operation_id="monitoring_covenant_checks", parameters=[*PAGE_PARAMETERS,
                                                                          _MINE],
                   responses={200: paginated(CovenantCheckSerializer, "CovenantCheckPage")})
    def get(self, request):
        if request.GET.get("due") == "mine":
            rows = selectors.covenant_worklist(viewer=request.user)["covenant_checks_due"]
            qs = selectors.covenant_check_list(viewer=request.user).filter(
                pk__in=[c.pk for c in rows]).order_by("due_date", "id")
        else:
            qs = selectors.covenant_check_list(viewer=request.user).order_by("due_date", "id")
        return paginate(qs, request, self, CovenantCheckSerializer)


class CovenantCheckDetailApi(APIView):
    @extend_schema(operation_id="monitoring_covenant_check",
                   responses={200: CovenantCheckDetailSerializer})
    def get(self, request, check_id: int):
        check = selectors.covenant_check_get(check_id=check_id, viewer=request.user)
        return Response(CovenantCheckDetailSerializer(check,
                                                      context={"request": request}).data)


class EvidenceInput(serializers.Serializer):
    note = serializers.CharField(max_length=TEXT_MAX)
    document_ids = serializers.ListField(child=serializers.IntegerField(min_value=1),
                                         required=False, default=list, max_length=50)


class CheckSubmitInput(EvidenceInput):
    result = serializers.ChoiceField(choices=CovenantResult.choices)

    class Meta:
        ref_name = "MonitoringCovenantCheckSubmitInput"


class DecisionInput(serializers.Serializer):
    note = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True,
                                 default="")

    class Meta:
        ref_name = "MonitoringCovenantDecisionInput"


class _CheckCommand(IdempotentCommandMixin, APIView):
    input_serializer = DecisionInput

    def run(self, request, check_id: int, service):
        check = selectors.covenant_check_get(check_id=check_id, viewer=request.user)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = service(check_id=check.pk, actor=request.user, **data.validated_data)
        return Response(CovenantCheckDetailSerializer(done,
                                                      context={"request": request}).data)


class CovenantCheckSubmitApi(_CheckCommand):
    """The loan's post-loan officer records the result with evidence (late allowed)."""

    input_serializer = CheckSubmitInput

    @extend_schema(operation_id="monitoring_covenant_check_submit", request=CheckSubmitInput,
                   responses={200: CovenantCheckDetailSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, check_id: int):
        return self.run(request, check_id, services.covenant_check_submit)


class CovenantCheckAcceptApi(_CheckCommand):
    """A second person (team lead or risk reviewer, not the submitter) accepts."""

    @extend_schema(operation_id="monitoring_covenant_check_accept", request=DecisionInput,
                   responses={200: CovenantCheckDetailSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, check_id: int):
        return self.run(request, check_id, services.covenant_check_accept)


class CovenantCheckBreachApi(_CheckCommand):
    """A second person confirms a breach, with a note: raises signal W25 (level 2)."""

    @extend_schema(operation_id="monitoring_covenant_check_breach", request=DecisionInput,
                   responses={200: CovenantCheckDetailSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, check_id: int):
        return self.run(request, check_id, services.covenant_check_breach)


class AnnualReviewListApi(APIView):
    """Annual reviews in the caller's branches; `?due=mine` for the caller's work list."""

    @extend_schema(operation_id="monitoring_annual_reviews", parameters=[*PAGE_PARAMETERS,
                                                                         _MINE],
                   responses={200: paginated(AnnualReviewSerializer, "AnnualReviewPage")})
    def get(self, request):
        if request.GET.get("due") == "mine":
            rows = selectors.covenant_worklist(viewer=request.user)["annual_reviews_due"]
            qs = selectors.annual_review_list(viewer=request.user).filter(
                pk__in=[r.pk for r in rows]).order_by("due_date", "id")
        else:
            qs = selectors.annual_review_list(viewer=request.user).order_by("due_date", "id")
        return paginate(qs, request, self, AnnualReviewSerializer)


class AnnualReviewDetailApi(APIView):
    @extend_schema(operation_id="monitoring_annual_review",
                   responses={200: AnnualReviewDetailSerializer})
    def get(self, request, review_id: int):
        review = selectors.annual_review_get(review_id=review_id, viewer=request.user)
        return Response(AnnualReviewDetailSerializer(review,
                                                     context={"request": request}).data)


class ReviewSubmitInput(EvidenceInput):
    outcome = serializers.ChoiceField(choices=ReviewOutcome.choices)

    class Meta:
        ref_name = "MonitoringAnnualReviewSubmitInput"


class _ReviewCommand(IdempotentCommandMixin, APIView):
    input_serializer = DecisionInput

    def run(self, request, review_id: int, service):
        review = selectors.annual_review_get(review_id=review_id, viewer=request.user)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = service(review_id=review.pk, actor=request.user, **data.validated_data)
        return Response(AnnualReviewDetailSerializer(done,
                                                     context={"request": request}).data)


class AnnualReviewSubmitApi(_ReviewCommand):
    """The loan's post-loan officer submits the review with evidence."""

    input_serializer = ReviewSubmitInput

    @extend_schema(operation_id="monitoring_annual_review_submit", request=ReviewSubmitInput,
                   responses={200: AnnualReviewDetailSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, review_id: int):
        return self.run(request, review_id, services.annual_review_submit)


class AnnualReviewAcceptApi(_ReviewCommand):
    """A second person accepts the review."""

    @extend_schema(operation_id="monitoring_annual_review_accept", request=DecisionInput,
                   responses={200: AnnualReviewDetailSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, review_id: int):
        return self.run(request, review_id, services.annual_review_accept)


class AnnualReviewReturnApi(_ReviewCommand):
    """A second person sends the review back to the officer, with a note."""

    @extend_schema(operation_id="monitoring_annual_review_return", request=DecisionInput,
                   responses={200: AnnualReviewDetailSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, review_id: int):
        return self.run(request, review_id, services.annual_review_return)
