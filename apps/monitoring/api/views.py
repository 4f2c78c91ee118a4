"""Integration API of post-loan risk monitoring: the work list, the review queue, a loan's
monitoring panel, portfolio figures, and one POST command per act (CONVENTIONS §6).

Objects are looked up through the viewer-scoped selectors first (404 for what the caller may
not see), then the services check permission (403) before state (409). Commands accept an
`Idempotency-Key`. `signal_raise` is the service the inspections code calls in-process; it
has no public endpoint (signals come from data, not from a form).
"""

import datetime as dt

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER, ErrorSerializer
from apps.monitoring import selectors
from apps.monitoring.services import actions as action_services
from apps.monitoring.services import classification as classification_services
from apps.monitoring.services import signals as signal_services
from apps.monitoring.states import ActionKind, ActionState, Category, ClassificationState
from apps.monitoring.states import SignalState as SS
from apps.parties.api.fields import MoneyField

_RESPONSES = {**COMMAND_ERRORS, **IDEMPOTENCY_ERRORS}


class ClassificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan = serializers.CharField(source="loan.loan_number")
    loan_id = serializers.IntegerField()
    category = serializers.ChoiceField(choices=Category.choices)
    previous_category = serializers.CharField()
    floor = serializers.ChoiceField(choices=Category.choices)
    floor_reasons = serializers.JSONField()
    is_upgrade = serializers.BooleanField()
    state = serializers.ChoiceField(choices=ClassificationState.choices)
    source = serializers.CharField()
    reason = serializers.CharField()
    proposed_by = serializers.CharField(source="proposed_by.username", allow_null=True,
                                        default=None)
    confirmed_by = serializers.CharField(source="confirmed_by.username", allow_null=True,
                                         default=None)
    approved_by = serializers.CharField(source="approved_by.username", allow_null=True,
                                        default=None)
    decision_note = serializers.CharField()
    created_at = serializers.DateTimeField()
    effective_at = serializers.DateTimeField(allow_null=True)
    policy_versions = serializers.JSONField()

    class Meta:
        ref_name = "MonitoringClassification"


class SignalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan = serializers.CharField(source="loan.loan_number")
    loan_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField(source="rule.name_en")
    name_zh = serializers.CharField(source="rule.name_zh")
    rule_version = serializers.IntegerField(source="rule.version")
    level = serializers.IntegerField()
    observed = serializers.CharField()
    baseline = serializers.CharField()
    source = serializers.CharField()
    state = serializers.ChoiceField(choices=SS.choices)
    raised_at = serializers.DateTimeField()
    observed_at = serializers.DateTimeField()
    close_note = serializers.CharField()

    class Meta:
        ref_name = "MonitoringSignal"


class ActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan = serializers.CharField(source="loan.loan_number")
    loan_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ActionKind.choices)
    level = serializers.IntegerField()
    owner = serializers.CharField(source="owner.username")
    due_date = serializers.DateField()
    state = serializers.ChoiceField(choices=ActionState.choices)
    evidence_note = serializers.CharField()
    waive_reason = serializers.CharField()

    class Meta:
        ref_name = "MonitoringAction"


class WorklistSerializer(serializers.Serializer):
    actions = ActionSerializer(many=True)
    signals = SignalSerializer(many=True)

    class Meta:
        ref_name = "MonitoringWorklist"


class RiskStatusSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices)
    floor = serializers.ChoiceField(choices=Category.choices)
    floor_reasons = serializers.JSONField()
    floor_as_of = serializers.DateField(allow_null=True)
    warning_level = serializers.IntegerField()

    class Meta:
        ref_name = "MonitoringRiskStatus"


class LoanPanelSerializer(serializers.Serializer):
    risk_status = RiskStatusSerializer(allow_null=True)
    classifications = ClassificationSerializer(many=True)
    signals = SignalSerializer(many=True)
    actions = ActionSerializer(many=True)

    class Meta:
        ref_name = "MonitoringLoanPanel"


class WorklistApi(APIView):
    """GET: the caller's open actions (by deadline) and open signals."""

    @extend_schema(operation_id="monitoring_worklist", responses={200: WorklistSerializer})
    def get(self, request):
        return Response(WorklistSerializer(selectors.worklist(viewer=request.user)).data)


class ReviewQueueApi(APIView):
    """GET: classification proposals the caller may confirm or approve now (four-eyes)."""

    @extend_schema(operation_id="monitoring_review_queue",
                   responses={200: ClassificationSerializer(many=True)})
    def get(self, request):
        queue = selectors.review_queue(viewer=request.user)[:500]
        return Response(ClassificationSerializer(queue, many=True).data)


class LoanPanelApi(APIView):
    """GET: a loan's risk status, classification history, signals and actions."""

    @extend_schema(operation_id="monitoring_loan_panel", responses={200: LoanPanelSerializer})
    def get(self, request, loan_id: int):
        loan = selectors.loan_get(loan_id=loan_id, viewer=request.user)
        context = selectors.loan_panel_context(loan=loan, viewer=request.user)
        return Response(LoanPanelSerializer(context).data)


class NplRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    loans = serializers.IntegerField()
    total = MoneyField()
    npa = MoneyField()
    ratio = serializers.DecimalField(max_digits=9, decimal_places=6)

    class Meta:
        ref_name = "MonitoringNplRow"


class NplRatioApi(APIView):
    """GET: NPL ratio of the caller's visible book by branch, product, officer or vintage."""

    class FilterSerializer(serializers.Serializer):
        by = serializers.ChoiceField(choices=list(selectors.DIMENSIONS), default="branch")

        class Meta:
            ref_name = "MonitoringNplFilter"

    @extend_schema(operation_id="monitoring_npl_ratio",
                   parameters=[OpenApiParameter("by", str, enum=list(selectors.DIMENSIONS))],
                   responses={200: NplRowSerializer(many=True), 400: COMMAND_ERRORS[400],
                              409: OpenApiResponse(ErrorSerializer, description=(
                                  "A policy value the ratio needs (the 次级 DPD floor) is "
                                  "not in force."))})
    def get(self, request):
        data = self.FilterSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        rows = selectors.npl_ratios(viewer=request.user, by=data.validated_data["by"])
        return Response(NplRowSerializer(rows, many=True).data)


class MigrationCellSerializer(serializers.Serializer):
    from_category = serializers.CharField(source="from",
                                          help_text="A category, or `new` (new to the book).")
    to_category = serializers.CharField(source="to",
                                        help_text="A category, or `off` (left the book).")
    count = serializers.IntegerField()
    balance = MoneyField(help_text="Outstanding at the later run.")

    class Meta:
        ref_name = "MonitoringMigrationCell"


class MigrationMatrixSerializer(serializers.Serializer):
    from_date = serializers.DateField()
    to_date = serializers.DateField()
    cells = MigrationCellSerializer(many=True)

    class Meta:
        ref_name = "MonitoringMigrationMatrix"


class MigrationMatrixApi(APIView):
    """GET: migration between the snapshots of two runs (counts and balances)."""

    class FilterSerializer(serializers.Serializer):
        from_date = serializers.DateField()
        to_date = serializers.DateField()

        class Meta:
            ref_name = "MonitoringMigrationFilter"

    @extend_schema(operation_id="monitoring_migration_matrix",
                   parameters=[OpenApiParameter("from_date", dt.date, required=True),
                               OpenApiParameter("to_date", dt.date, required=True)],
                   responses={200: MigrationMatrixSerializer, 400: COMMAND_ERRORS[400]})
    def get(self, request):
        data = self.FilterSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        matrix = selectors.migration_matrix(viewer=request.user,
                                            from_date=data.validated_data["from_date"],
                                            to_date=data.validated_data["to_date"])
        cells = [{"from": a, "to": b, "count": v["count"], "balance": v["balance"]}
                 for (a, b), v in sorted(matrix["cells"].items())]
        return Response(MigrationMatrixSerializer({"from_date": matrix["from"],
                                                   "to_date": matrix["to"],
                                                   "cells": cells}).data)


# --- commands -----------------------------------------------------------------------------

class NoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    class Meta:
        ref_name = "MonitoringNoteInput"


class ClassificationProposeApi(IdempotentCommandMixin, APIView):
    """Propose a category for a loan, with a reason (refused when better than the floor)."""

    class InputSerializer(serializers.Serializer):
        category = serializers.ChoiceField(choices=Category.choices)
        reason = serializers.CharField(max_length=2000)

        class Meta:
            ref_name = "MonitoringClassificationProposeInput"

    @extend_schema(operation_id="monitoring_classification_propose", request=InputSerializer,
                   responses={201: ClassificationSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, loan_id: int):
        loan = selectors.loan_get(loan_id=loan_id, viewer=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = classification_services.classification_propose(
            loan_id=loan.pk, actor=request.user, **data.validated_data)
        return Response(ClassificationSerializer(proposal).data, status=201)


def _decide(service):
    class DecisionApi(IdempotentCommandMixin, APIView):
        @extend_schema(operation_id=f"monitoring_{service.__name__}", request=NoteInput,
                       responses={200: ClassificationSerializer, **_RESPONSES},
                       parameters=[IDEMPOTENCY_KEY_HEADER])
        def post(self, request, classification_id: int):
            found = selectors.classification_get(classification_id=classification_id,
                                                 viewer=request.user)
            data = NoteInput(data=request.data)
            data.is_valid(raise_exception=True)
            decided = service(classification_id=found.pk, actor=request.user,
                              note=data.validated_data["note"])
            return Response(ClassificationSerializer(decided).data)

    DecisionApi.__name__ = DecisionApi.__qualname__ = "".join(
        part.title() for part in service.__name__.split("_")) + "Api"
    DecisionApi.__doc__ = service.__doc__
    return DecisionApi


ClassificationConfirmApi = _decide(classification_services.classification_confirm)
ClassificationApproveApi = _decide(classification_services.classification_approve)
ClassificationRejectApi = _decide(classification_services.classification_reject)


class SignalAcknowledgeApi(IdempotentCommandMixin, APIView):
    """The officer has seen the signal."""

    @extend_schema(operation_id="monitoring_signal_acknowledge", request=None,
                   responses={200: SignalSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, signal_id: int):
        signal = selectors.signal_get(signal_id=signal_id, viewer=request.user)
        signal = signal_services.signal_acknowledge(signal_id=signal.pk, actor=request.user)
        return Response(SignalSerializer(signal).data)


class SignalCloseApi(IdempotentCommandMixin, APIView):
    """Close with a note; an L3 signal moves to 'close requested' for a second person."""

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=2000)

        class Meta:
            ref_name = "MonitoringSignalCloseInput"

    @extend_schema(operation_id="monitoring_signal_close", request=InputSerializer,
                   responses={200: SignalSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, signal_id: int):
        signal = selectors.signal_get(signal_id=signal_id, viewer=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signal = signal_services.signal_close(signal_id=signal.pk, actor=request.user,
                                              note=data.validated_data["note"])
        return Response(SignalSerializer(signal).data)


class SignalCloseDecideApi(IdempotentCommandMixin, APIView):
    """The second person confirms an L3 close (`confirm: true`) or refuses it with a note."""

    class InputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField()
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                     default="")

        class Meta:
            ref_name = "MonitoringSignalCloseDecideInput"

    @extend_schema(operation_id="monitoring_signal_close_decide", request=InputSerializer,
                   responses={200: SignalSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, signal_id: int):
        signal = selectors.signal_get(signal_id=signal_id, viewer=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signal = signal_services.signal_close_decide(signal_id=signal.pk, actor=request.user,
                                                     **data.validated_data)
        return Response(SignalSerializer(signal).data)


class ActionCompleteApi(IdempotentCommandMixin, APIView):
    """Mark a mandatory action done, with the evidence (note, optional document)."""

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=4000)
        document_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)

        class Meta:
            ref_name = "MonitoringActionCompleteInput"

    @extend_schema(operation_id="monitoring_action_complete", request=InputSerializer,
                   responses={200: ActionSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, action_id: int):
        action = selectors.action_get(action_id=action_id, viewer=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = None
        if data.validated_data.get("document_id"):
            from apps.documents.selectors import document_list

            document = document_list(viewer=request.user).filter(
                pk=data.validated_data["document_id"]).first()
            if document is None:
                raise ValidationError({"document_id": [_("Not found.")]})
        action = action_services.action_complete(action_id=action.pk, actor=request.user,
                                                 note=data.validated_data["note"],
                                                 document=document)
        return Response(ActionSerializer(action).data)


class ActionWaiveApi(IdempotentCommandMixin, APIView):
    """A second person waives a mandatory action, with the reason."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

        class Meta:
            ref_name = "MonitoringActionWaiveInput"

    @extend_schema(operation_id="monitoring_action_waive", request=InputSerializer,
                   responses={200: ActionSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, action_id: int):
        action = selectors.action_get(action_id=action_id, viewer=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = action_services.action_waive(action_id=action.pk, actor=request.user,
                                              reason=data.validated_data["reason"])
        return Response(ActionSerializer(action).data)
