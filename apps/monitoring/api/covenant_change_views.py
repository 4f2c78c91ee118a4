"""Integration API for the covenant lifecycle: a covenant with its changes, proposing an
amendment, waiver or end, and the second person's decision (domain reference §6.3, §6.4).

Statuses: 200 success; 201 change proposed; 400 invalid input (`fields`: a start day in the
past, a waiver without its last day or ending before it starts, an amendment that changes
nothing, a missing reason or rejection note); 401 not signed in; 403 not your move (not a
post-loan officer of the branch; the proposer deciding their own change, with a sentence
saying a different person must; withdrawing someone else's proposal), always before 409;
404 not found or in another branch (existence not revealed); 409 not possible now
(`transition_not_allowed`: already decided, covenant ended or already waived, loan closed,
another change of the covenant still open); 422 Idempotency-Key reused with another body.
Commands take an `Idempotency-Key`.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER
from apps.monitoring import covenant_change_services as services
from apps.monitoring import covenant_selectors as selectors
from apps.monitoring.covenant_states import (
    CovenantChangeKind,
    CovenantChangeState,
    CovenantKind,
    CovenantSource,
    CovenantState,
)

TEXT_MAX = services.TEXT_MAX
_RESPONSES = {**COMMAND_ERRORS, **IDEMPOTENCY_ERRORS}


class CovenantChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    covenant_id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CovenantChangeKind.choices)
    state = serializers.ChoiceField(choices=CovenantChangeState.choices)
    effective_from = serializers.DateField(help_text="First day the change applies "
                                                     "(inclusive).")
    waived_until = serializers.DateField(allow_null=True, help_text="Last waived day "
                                                                    "(inclusive).")
    new_kind = serializers.CharField()
    new_text = serializers.CharField()
    previous = serializers.JSONField(help_text="The covenant's terms before it took effect.")
    reason = serializers.CharField()
    proposed_by = serializers.CharField(source="proposed_by.username")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True,
                                       default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    in_effect_at = serializers.DateTimeField(allow_null=True)
    available_actions = serializers.SerializerMethodField()

    class Meta:
        ref_name = "MonitoringCovenantChange"

    def get_available_actions(self, obj) -> list[str]:
        request = self.context.get("request")
        return selectors.available_actions(obj, request.user) if request else []


class CovenantDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CovenantKind.choices)
    text = serializers.CharField()
    source = serializers.ChoiceField(choices=CovenantSource.choices)
    starts_on = serializers.DateField()
    state = serializers.ChoiceField(choices=CovenantState.choices)
    waived_until = serializers.DateField(allow_null=True)
    ended_on = serializers.DateField(allow_null=True)
    changes = CovenantChangeSerializer(many=True, source="change_list",
                                       help_text="Newest first.")

    class Meta:
        ref_name = "MonitoringCovenantDetail"


def _detail(request, covenant) -> Response:
    covenant.change_list = list(selectors.covenant_change_list(viewer=request.user)
                                .filter(covenant=covenant).order_by("-id")[:100])
    return Response(CovenantDetailSerializer(covenant, context={"request": request}).data)


class CovenantDetailApi(APIView):
    """A covenant, its state and its changes (newest first)."""

    @extend_schema(operation_id="monitoring_covenant", responses={200: CovenantDetailSerializer})
    def get(self, request, covenant_id: int):
        return _detail(request, selectors.covenant_get(covenant_id=covenant_id,
                                                       viewer=request.user))


class CovenantChangeProposeApi(IdempotentCommandMixin, APIView):
    """A post-loan officer of the branch proposes to amend, waive (until a day) or end a
    covenant from a start day (inclusive); a second person decides it."""

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=CovenantChangeKind.choices)
        effective_from = serializers.DateField()
        waived_until = serializers.DateField(required=False, allow_null=True, default=None,
                                             help_text="Required for a waiver.")
        new_kind = serializers.ChoiceField(choices=CovenantKind.choices, required=False,
                                           allow_blank=True, default="")
        new_text = serializers.CharField(max_length=TEXT_MAX, required=False,
                                         allow_blank=True, default="")
        reason = serializers.CharField(max_length=TEXT_MAX)

        class Meta:
            ref_name = "MonitoringCovenantChangeInput"

    @extend_schema(operation_id="monitoring_covenant_change_propose", request=InputSerializer,
                   responses={201: CovenantChangeSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, covenant_id: int):
        covenant = selectors.covenant_get(covenant_id=covenant_id, viewer=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.covenant_change_propose(covenant_id=covenant.pk, actor=request.user,
                                                  **data.validated_data)
        return Response(CovenantChangeSerializer(change, context={"request": request}).data,
                        status=201)


class DecisionInput(serializers.Serializer):
    note = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True,
                                 default="")

    class Meta:
        ref_name = "MonitoringCovenantChangeDecisionInput"


class _ChangeCommand(IdempotentCommandMixin, APIView):
    def run(self, request, change_id: int, call):
        change = selectors.covenant_change_get(change_id=change_id, viewer=request.user)
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        done = call(change.pk, request.user, data.validated_data["note"])
        return Response(CovenantChangeSerializer(done, context={"request": request}).data)


class CovenantChangeApproveApi(_ChangeCommand):
    """A team lead or risk reviewer of the branch other than the proposer approves; on or
    after its start day the change takes effect at once."""

    @extend_schema(operation_id="monitoring_covenant_change_approve", request=DecisionInput,
                   responses={200: CovenantChangeSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, change_id: int):
        return self.run(request, change_id, lambda pk, user, note:
                        services.covenant_change_approve(change_id=pk, actor=user, note=note))


class CovenantChangeRejectApi(_ChangeCommand):
    """A second person rejects, with a note (400 without one)."""

    @extend_schema(operation_id="monitoring_covenant_change_reject", request=DecisionInput,
                   responses={200: CovenantChangeSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, change_id: int):
        return self.run(request, change_id, lambda pk, user, note:
                        services.covenant_change_reject(change_id=pk, actor=user, note=note))


class CovenantChangeWithdrawApi(_ChangeCommand):
    """The proposer withdraws a change nobody decided yet."""

    @extend_schema(operation_id="monitoring_covenant_change_withdraw", request=DecisionInput,
                   responses={200: CovenantChangeSerializer, **_RESPONSES},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, change_id: int):
        return self.run(request, change_id, lambda pk, user, _note:
                        services.covenant_change_withdraw(change_id=pk, actor=user))
