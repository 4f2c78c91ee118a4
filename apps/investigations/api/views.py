"""Integration API for pre-lending investigations (issue 4, "all of it through the API too").

Views stay thin, as in apps/applications/api: the object is looked up through the
viewer-scoped selector first (another branch's investigation answers 404, its existence not
revealed), input serializers carry only what a caller may set, and the workflow services
decide the rest (officers only, reviewer independence, state, version conflicts), their
refusals rendered as `{code, detail, fields}` by `apps.core.exceptions`. Commands and the
answer PUT accept an `Idempotency-Key`; an answer save is also naturally retry-safe (saving
what is stored changes nothing).
"""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import user_list
from apps.applications.selectors import application_get
from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER, ErrorSerializer
from apps.investigations import workflow
from apps.investigations.actions import ALL_ACTIONS, available_actions
from apps.investigations.expressions import RuleEvaluationError
from apps.investigations.models import AnswerType
from apps.investigations.selectors import (
    answer_payload,
    derived_inputs,
    derived_values,
    investigation_for_application,
    investigation_get,
    investigation_list,
    investigation_view,
)
from apps.investigations.states import InvestigationState
from apps.parties.api.pagination import PAGE_PARAMETERS, paginate, paginated

TEXT_MAX_LENGTH = 4000


# --- output -----------------------------------------------------------------------------------

class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")

    class Meta:
        ref_name = "InvestigationPerson"


class AnswerSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="Name it as expected_version in the next save.")
    value = serializers.JSONField(allow_null=True)
    not_applicable = serializers.BooleanField()
    na_reason = serializers.CharField(allow_blank=True)
    evidence = serializers.JSONField(help_text='{"documents": {type: [ids]}, "photos": [ids]}')
    answered_by = serializers.IntegerField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "InvestigationAnswer"


class LabelledCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()

    class Meta:
        ref_name = "InvestigationChoice"


class ColumnSerializer(LabelledCodeSerializer):
    type = serializers.CharField()

    class Meta:
        ref_name = "InvestigationTableColumn"


class CommentSerializer(serializers.Serializer):
    item = serializers.CharField()
    text = serializers.CharField()
    round = serializers.IntegerField(help_text="The submission the comment was made on.")
    author = serializers.CharField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "InvestigationItemComment"


class FindingSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="red_flag or cross_check")
    code = serializers.CharField()
    item = serializers.CharField(allow_null=True)
    severity = serializers.CharField(help_text="R1 note, R2 reviewer must comment, R3 knockout")
    message = serializers.CharField(help_text="In the request language.")
    explanation = serializers.CharField(help_text="The numbers compared.")
    inputs = serializers.JSONField()
    policies = serializers.JSONField(help_text="Policy values used, by key.")

    class Meta:
        ref_name = "InvestigationFinding"


class ItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField(help_text="In the request language.")
    help = serializers.CharField()
    answer_type = serializers.ChoiceField(choices=AnswerType.choices)
    unit = serializers.CharField()
    min_length = serializers.IntegerField(allow_null=True)
    required = serializers.BooleanField()
    na_allowed = serializers.BooleanField()
    choices = LabelledCodeSerializer(many=True)
    columns = ColumnSerializer(many=True)
    rows = LabelledCodeSerializer(many=True, help_text="Fixed rows of a table item.")
    evidence = serializers.JSONField(source="evidence_spec",
                                     help_text='Required: {"document_types": [...], '
                                               '"photo_count": n}')
    answer = AnswerSerializer(allow_null=True)
    derived_value = serializers.JSONField(allow_null=True,
                                          help_text="Derived items: computed now, read-only.")
    comments = CommentSerializer(many=True)

    class Meta:
        ref_name = "InvestigationItem"


class SectionSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    answered = serializers.IntegerField(source="answered_count")
    required = serializers.IntegerField(source="required_count")
    items = ItemSerializer(many=True)

    class Meta:
        ref_name = "InvestigationSection"


class CheckInSerializer(serializers.Serializer):
    officer = PersonSerializer()
    at = serializers.DateTimeField()
    lat = serializers.DecimalField(max_digits=9, decimal_places=6)
    lng = serializers.DecimalField(max_digits=9, decimal_places=6)
    accuracy_m = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    checked_out_at = serializers.DateTimeField(allow_null=True,
                                               help_text="Null while still on site.")

    class Meta:
        ref_name = "InvestigationCheckIn"


class InvestigationSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application_id = serializers.IntegerField()
    application_reference = serializers.CharField(source="application.reference")
    enterprise_name = serializers.CharField(source="application.enterprise.name")
    state = serializers.ChoiceField(choices=InvestigationState.choices)
    template = serializers.SerializerMethodField()
    lead_officer = PersonSerializer()
    assisting_officer = PersonSerializer()
    submission_count = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    reviewed_by = PersonSerializer(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "InvestigationSummary"

    def get_template(self, investigation) -> str:
        template = investigation.template
        return f"{template.code} v{template.version}"


class InvestigationDetailSerializer(serializers.Serializer):
    """One investigation: template in the request language, answers with versions, what
    blocks submission, findings frozen at submission, comments, check-ins, your commands."""

    investigation = InvestigationSummarySerializer()
    sections = SectionSerializer(many=True)
    missing = serializers.ListField(child=serializers.CharField(),
                                    help_text="What stops a submission now (editable states).")
    red_flags = FindingSerializer(many=True)
    cross_checks = FindingSerializer(many=True)
    comments = CommentSerializer(many=True)
    check_ins = CheckInSerializer(many=True)
    actions = serializers.ListField(child=serializers.ChoiceField(choices=ALL_ACTIONS))

    class Meta:
        ref_name = "InvestigationDetail"


def _detail(investigation, request, status_code=status.HTTP_200_OK) -> Response:
    view = investigation_view(investigation=investigation)
    data = InvestigationDetailSerializer({
        "investigation": investigation, "sections": view.sections, "missing": view.missing,
        "red_flags": view.red_flags, "cross_checks": view.cross_checks,
        "comments": view.comments, "check_ins": view.check_ins,
        "actions": available_actions(investigation, request.user)}).data
    # The flat shape clients read most: investigation fields at the top level.
    body = {**data.pop("investigation"), **data}
    return Response(body, status=status_code)


class InvestigationBodySerializer(InvestigationSummarySerializer):
    """The detail response as documented (top level = the summary fields plus the rest)."""

    sections = SectionSerializer(many=True)
    missing = serializers.ListField(child=serializers.CharField())
    red_flags = FindingSerializer(many=True)
    cross_checks = FindingSerializer(many=True)
    comments = CommentSerializer(many=True)
    check_ins = CheckInSerializer(many=True)
    actions = serializers.ListField(child=serializers.ChoiceField(choices=ALL_ACTIONS))

    class Meta:
        ref_name = "Investigation"


_RESPONSES = {200: InvestigationBodySerializer, **COMMAND_ERRORS, **IDEMPOTENCY_ERRORS}


# --- list and read ---------------------------------------------------------------------------

class InvestigationListApi(APIView):
    """GET: the investigations the caller may see, newest first."""

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=InvestigationState.choices, required=False)
        mine = serializers.BooleanField(required=False,
                                        help_text="Only those you are an officer on.")

        class Meta:
            ref_name = "InvestigationFilter"

    @extend_schema(operation_id="investigations_list",
                   parameters=[FilterSerializer, *PAGE_PARAMETERS],
                   responses={200: paginated(InvestigationSummarySerializer,
                                             "PaginatedInvestigationList")})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        investigations = investigation_list(viewer=request.user)
        if "state" in filters.validated_data:
            investigations = investigations.filter(state=filters.validated_data["state"])
        if filters.validated_data.get("mine"):
            from django.db.models import Q
            investigations = investigations.filter(Q(lead_officer=request.user)
                                                   | Q(assisting_officer=request.user))
        return paginate(investigations, request, self, InvestigationSummarySerializer)


class InvestigationDetailApi(APIView):
    """GET: one investigation with its template, answers, missing list and findings."""

    @extend_schema(operation_id="investigations_retrieve",
                   responses={200: InvestigationBodySerializer})
    def get(self, request, investigation_id: int):
        return _detail(investigation_get(viewer=request.user, investigation_id=investigation_id),
                       request)


# --- assign (on the application) -------------------------------------------------------------

class ApplicationInvestigationApi(IdempotentCommandMixin, APIView):
    """GET: the application's investigation. POST: assign it to two distinct account managers
    of the branch (team lead or the file's account manager)."""

    class InputSerializer(serializers.Serializer):
        lead_officer_id = serializers.IntegerField(min_value=1)
        assisting_officer_id = serializers.IntegerField(min_value=1)
        template = serializers.CharField(
            required=False, max_length=60,
            help_text="Code of a published checklist template; default: the product's.")

        class Meta:
            ref_name = "InvestigationAssignInput"

    @extend_schema(operation_id="applications_investigation_retrieve",
                   responses={200: InvestigationBodySerializer})
    def get(self, request, application_id: int):
        application = application_get(viewer=request.user, application_id=application_id)
        investigation = investigation_for_application(viewer=request.user,
                                                      application=application)
        if investigation is None:
            raise Http404
        return _detail(investigation, request)

    @extend_schema(operation_id="applications_investigation_assign", request=InputSerializer,
                   responses={201: InvestigationBodySerializer, **COMMAND_ERRORS,
                              **IDEMPOTENCY_ERRORS},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        application_get(viewer=request.user, application_id=application_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        people = user_list(viewer=request.user)
        officers = {}
        for field in ("lead_officer", "assisting_officer"):
            officer = people.filter(pk=data.validated_data[f"{field}_id"]).first()
            if officer is None:  # not visible or not there: the same answer
                raise ValidationError({f"{field}_id": [_("Not found.")]})
            officers[field] = officer
        investigation = workflow.investigation_assign(
            application_id=application_id, actor=request.user,
            template_code=data.validated_data.get("template"), **officers)
        return _detail(investigation_get(viewer=request.user, investigation_id=investigation.pk),
                       request, status.HTTP_201_CREATED)


# --- commands on the investigation -----------------------------------------------------------

class InvestigationCommandApi(IdempotentCommandMixin, APIView):
    """Visible first (404), input valid (400), then the service (403/409 with the body)."""

    class InputSerializer(serializers.Serializer):
        pass

    def command(self, request, investigation_id: int, run):
        investigation_get(viewer=request.user, investigation_id=investigation_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run(dict(data.validated_data))
        return _detail(investigation_get(viewer=request.user, investigation_id=investigation_id),
                       request)


class InvestigationStartApi(InvestigationCommandApi):
    """One of the two officers opens the form; answers may be saved from now on."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "InvestigationStartInput"

    @extend_schema(operation_id="investigations_start", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, investigation_id: int):
        return self.command(request, investigation_id, lambda data: workflow.investigation_start(
            investigation_id=investigation_id, actor=request.user))


class InvestigationCheckInApi(InvestigationCommandApi):
    """An officer checks in at the site visit with the phone's position (现场签到)."""

    class InputSerializer(serializers.Serializer):
        lat = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90,
                                       max_value=90)
        lng = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-180,
                                       max_value=180)
        accuracy_m = serializers.DecimalField(max_digits=8, decimal_places=1, min_value=0,
                                              required=False, allow_null=True)

        class Meta:
            ref_name = "InvestigationCheckInInput"

    @extend_schema(operation_id="investigations_check_in", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, investigation_id: int):
        return self.command(request, investigation_id, lambda data: workflow.site_check_in(
            investigation_id=investigation_id, officer=request.user, **data))


class InvestigationCheckOutApi(InvestigationCommandApi):
    """An officer leaves the site: closes their open check-in, so the time on site is
    recorded (§3.4: implausibly short visits are flagged)."""

    class InputSerializer(serializers.Serializer):
        lat = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90,
                                       max_value=90)
        lng = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-180,
                                       max_value=180)

        class Meta:
            ref_name = "InvestigationCheckOutInput"

    @extend_schema(operation_id="investigations_check_out", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, investigation_id: int):
        return self.command(request, investigation_id, lambda data: workflow.site_check_out(
            investigation_id=investigation_id, officer=request.user, **data))


class InvestigationSubmitApi(InvestigationCommandApi):
    """Submit (or resubmit) once nothing is missing; 409 `investigation_incomplete` lists
    everything missing in `fields.missing`."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "InvestigationSubmitInput"

    @extend_schema(operation_id="investigations_submit", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, investigation_id: int):
        return self.command(request, investigation_id, lambda data: workflow.investigation_submit(
            investigation_id=investigation_id, actor=request.user))


class InvestigationAcceptApi(InvestigationCommandApi):
    """An independent risk reviewer accepts the submitted investigation."""

    class InputSerializer(serializers.Serializer):
        comment = serializers.CharField(required=False, allow_blank=True,
                                        max_length=TEXT_MAX_LENGTH)

        class Meta:
            ref_name = "InvestigationAcceptInput"

    @extend_schema(operation_id="investigations_accept", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, investigation_id: int):
        return self.command(request, investigation_id, lambda data: workflow.investigation_accept(
            investigation_id=investigation_id, actor=request.user, **data))


class InvestigationReturnApi(InvestigationCommandApi):
    """Return to the officers with a comment per item (退回补正)."""

    class InputSerializer(serializers.Serializer):
        comments = serializers.DictField(
            child=serializers.CharField(max_length=TEXT_MAX_LENGTH, allow_blank=True),
            help_text="Item code → what must be corrected; at least one.")

        class Meta:
            ref_name = "InvestigationReturnInput"

    @extend_schema(operation_id="investigations_return", request=InputSerializer,
                   responses=_RESPONSES, parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, investigation_id: int):
        return self.command(request, investigation_id, lambda data: workflow.investigation_return(
            investigation_id=investigation_id, actor=request.user, **data))


# --- one answer ------------------------------------------------------------------------------

class AnswerSaveOutputSerializer(serializers.Serializer):
    item = serializers.CharField()
    answer = AnswerSerializer()
    derived = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        help_text="Every derived item, recomputed after the save when the saved item is an "
                  "input of one; empty when it feeds none (nothing derived changed).")

    class Meta:
        ref_name = "InvestigationAnswerSaved"


class InvestigationAnswerApi(IdempotentCommandMixin, APIView):
    """PUT: save (autosave) one answer. Name the version you read as `expected_version`
    (null for a first answer). A stale version is 409 `answer_conflict` with the current
    answer in `fields.current`; saving what is already stored is a no-op, so retries after a
    dropped connection are safe with or without an Idempotency-Key."""

    idempotent_methods = ("PUT",)

    class InputSerializer(serializers.Serializer):
        value = serializers.JSONField(required=False, allow_null=True, default=None,
                                      help_text="Typed per answer_type: decimals as text, "
                                                "dates ISO, tables as a list of row objects.")
        not_applicable = serializers.BooleanField(required=False, default=False)
        na_reason = serializers.CharField(required=False, allow_blank=True, default="",
                                          max_length=TEXT_MAX_LENGTH)
        evidence = serializers.JSONField(required=False, allow_null=True, default=None)
        expected_version = serializers.IntegerField(required=False, allow_null=True,
                                                    default=None, min_value=1)

        class Meta:
            ref_name = "InvestigationAnswerInput"

    @extend_schema(operation_id="investigations_answer_save", request=InputSerializer,
                   responses={200: AnswerSaveOutputSerializer, **COMMAND_ERRORS,
                              **IDEMPOTENCY_ERRORS,
                              409: OpenApiResponse(ErrorSerializer, description=(
                                  "answer_conflict (fields.current holds the current answer) "
                                  "or not editable in this state."))},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def put(self, request, investigation_id: int, item_code: str):
        # The scope check without the joins the full read needs: this runs on every keystroke
        # pause of two officers, so it stays as light as the rules allow.
        investigation = get_object_or_404(
            investigation_list(viewer=request.user).select_related(None)
            .select_related("template"), pk=investigation_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = workflow.answer_save(investigation_id=investigation_id, item_code=item_code,
                                      actor=request.user, **data.validated_data)
        derived = {}
        # Only an input of some derived value can change one: most saves skip the recompute.
        if item_code in derived_inputs(investigation.template):
            try:
                derived = derived_values(investigation)
            except RuleEvaluationError:  # the answer is saved; a broken rule only hides these
                derived = {}
        return Response(AnswerSaveOutputSerializer({
            "item": item_code, "answer": answer_payload(answer), "derived": derived}).data)
