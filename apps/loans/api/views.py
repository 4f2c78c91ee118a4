"""Integration API of the loan book: contracts, drawdowns, loans and schedules (CONVENTIONS §6).

Objects are looked up through the viewer-scoped selectors first (404 for what the caller may
not see); input serializers hold only what a caller may set; the services decide the rest.
Commands accept an `Idempotency-Key`. The contract PDF is served and audited like the page.
"""

from django.db.models import TextChoices
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.applications.selectors import application_get
from apps.core.idempotency import IDEMPOTENCY_ERRORS, IdempotentCommandMixin
from apps.core.schema import COMMAND_ERRORS, IDEMPOTENCY_KEY_HEADER
from apps.loans import selectors
from apps.loans.models import LoanChange, PaymentMode, SigningMode
from apps.loans.services import contracts, disbursements, lifecycle
from apps.loans.states import LoanState
from apps.parties.api.fields import MoneyField
from apps.parties.api.pagination import PAGE_PARAMETERS, paginate, paginated

_COMMAND = {**COMMAND_ERRORS, **IDEMPOTENCY_ERRORS}


class ChangeDecision(TextChoices):
    """What the second officer does with a loan change request (named in the schema)."""

    APPROVE = "approve", "approve"
    REJECT = "reject", "reject"


# --- output -----------------------------------------------------------------------------------

class DisbursementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    amount = MoneyField()
    value_date = serializers.DateField()
    borrower_account = serializers.CharField()
    payment_mode = serializers.ChoiceField(choices=PaymentMode.choices)
    payee_name = serializers.CharField()
    payee_account = serializers.CharField()
    invoice_document_id = serializers.IntegerField(allow_null=True)
    repayment_method = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.username")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True,
                                       default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    loan_id = serializers.SerializerMethodField()

    class Meta:
        ref_name = "LoanDisbursement"

    def get_loan_id(self, obj) -> int | None:
        loan = getattr(obj, "loan", None) if obj.state == "approved" else None
        return getattr(loan, "pk", None)


class ContractSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    contract_number = serializers.CharField()
    application_id = serializers.IntegerField()
    reference = serializers.CharField(source="application.reference")
    enterprise_id = serializers.IntegerField()
    enterprise_name = serializers.CharField(source="enterprise.name")
    branch = serializers.CharField(source="branch.code")
    state = serializers.CharField()
    currency = serializers.CharField()
    amount = MoneyField()
    annual_rate = serializers.DecimalField(max_digits=6, decimal_places=3)
    term_months = serializers.IntegerField()
    repayment_method = serializers.CharField()
    day_count = serializers.CharField()
    collateral_type = serializers.CharField()
    conditions = serializers.JSONField(help_text="Conditions precedent and covenants as signed.")
    template_version = serializers.CharField()
    template_sha256 = serializers.CharField()
    signing_mode = serializers.ChoiceField(choices=SigningMode.choices)
    signing_place = serializers.CharField()
    signed_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        ref_name = "LoanContract"


class ContractDetailSerializer(ContractSerializer):
    drawn = serializers.SerializerMethodField()
    disbursements = serializers.SerializerMethodField()

    class Meta:
        ref_name = "LoanContractDetail"

    def get_drawn(self, obj) -> dict:
        return {k: f"{v:.2f}" for k, v in selectors.contract_drawn(obj).items()}

    def get_disbursements(self, obj) -> list:
        rows = selectors.disbursement_list(viewer=self.context["viewer"], contract=obj)
        return DisbursementSerializer(rows, many=True).data


class LoanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan_number = serializers.CharField()
    contract_id = serializers.IntegerField()
    contract_number = serializers.CharField(source="contract.contract_number")
    application_id = serializers.IntegerField()
    reference = serializers.CharField(source="application.reference")
    enterprise_id = serializers.IntegerField()
    enterprise_name = serializers.CharField(source="enterprise.name")
    branch = serializers.CharField(source="branch.code")
    officer = serializers.CharField(source="officer.username")
    state = serializers.ChoiceField(choices=LoanState.choices)
    currency = serializers.CharField()
    principal = MoneyField()
    outstanding_principal = MoneyField()
    annual_rate = serializers.DecimalField(max_digits=6, decimal_places=3)
    day_count = serializers.CharField()
    repayment_method = serializers.CharField()
    payment_mode = serializers.CharField()
    value_date = serializers.DateField()
    maturity_date = serializers.DateField()
    schedule_version = serializers.IntegerField()
    dpd = serializers.IntegerField()
    dpd_principal = serializers.IntegerField()
    dpd_interest = serializers.IntegerField()

    class Meta:
        ref_name = "Loan"


class InstalmentSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    principal = MoneyField()
    interest = MoneyField()
    total = serializers.SerializerMethodField()

    class Meta:
        ref_name = "LoanInstalment"

    def get_total(self, obj) -> str:
        return f"{obj.principal + obj.interest:.2f}"


class ChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    loan_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LoanChange.Kind.choices)
    state = serializers.CharField()
    reason = serializers.CharField()
    terms = serializers.JSONField()
    requested_by = serializers.CharField(source="requested_by.username")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True,
                                       default=None)

    class Meta:
        ref_name = "LoanChange"


# --- contracts --------------------------------------------------------------------------------

class ContractCreateApi(IdempotentCommandMixin, APIView):
    """Sign the contract of an approved application (loan operations, independent of the
    file). 403: not an independent operations officer of the branch; 409: not approved,
    already contracted, or a condition precedent open; 400: bad signing details."""

    class InputSerializer(serializers.Serializer):
        signing_mode = serializers.ChoiceField(choices=SigningMode.choices,
                                               default=SigningMode.IN_PERSON)
        signing_place = serializers.CharField(max_length=200, required=False, default="",
                                              allow_blank=True)
        signing_witness = serializers.CharField(required=False, allow_blank=True, default="",
                                                help_text="Username of the second officer.")
        comment = serializers.CharField(max_length=2000, required=False, default="",
                                        allow_blank=True)

        class Meta:
            ref_name = "LoanContractCreateInput"

    @extend_schema(operation_id="loans_contract_create", request=InputSerializer,
                   responses={201: ContractSerializer, **_COMMAND},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, application_id: int):
        application_get(viewer=request.user, application_id=application_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        witness_name = fields.pop("signing_witness")
        witness = None
        if witness_name:
            witness = User.objects.filter(username=witness_name).first()
            if witness is None:
                from django.core.exceptions import ValidationError

                raise ValidationError({"signing_witness": "No such officer."})
        contract = contracts.contract_create(application_id=application_id, actor=request.user,
                                             signing_witness=witness, **fields)
        return Response(ContractSerializer(contract).data, status=status.HTTP_201_CREATED)


class ContractDetailApi(APIView):
    @extend_schema(operation_id="loans_contract_detail", responses={200: ContractDetailSerializer})
    def get(self, request, contract_id: int):
        contract = selectors.contract_get(viewer=request.user, contract_id=contract_id)
        return Response(ContractDetailSerializer(contract, context={"viewer": request.user}).data)


class ContractPdfApi(APIView):
    """The bilingual contract PDF (fonts embedded); each download is audited."""

    @extend_schema(operation_id="loans_contract_pdf",
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, contract_id: int):
        from apps.loans.services.contract_pdf import contract_pdf_download

        contract = selectors.contract_get(viewer=request.user, contract_id=contract_id)
        pdf = contract_pdf_download(contract_id=contract.pk, actor=request.user)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = \
            f'attachment; filename="{contract.contract_number}.pdf"'
        return response


# --- drawdowns --------------------------------------------------------------------------------

class DisbursementRequestApi(IdempotentCommandMixin, APIView):
    """Request a tranche (maker). 400: amount above the undrawn amount (pending requests
    count), past value date, 受托支付 required or incomplete, bad schedule upload (each line
    and reason); 403: not an independent operations officer; 409: contract not signed or
    conditions precedent open. Send multipart to attach `schedule_file` (CSV/XLSX)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        amount = MoneyField()
        value_date = serializers.DateField()
        borrower_account = serializers.CharField(max_length=40)
        payment_mode = serializers.ChoiceField(choices=PaymentMode.choices)
        payee_name = serializers.CharField(max_length=200, required=False, default="",
                                           allow_blank=True)
        payee_account = serializers.CharField(max_length=40, required=False, default="",
                                              allow_blank=True)
        invoice_document_id = serializers.IntegerField(required=False, allow_null=True,
                                                       default=None)
        schedule_file = serializers.FileField(required=False, allow_null=True, default=None,
                                              help_text="Irregular schedule: CSV or XLSX "
                                              "with the header due_date,principal.")

        class Meta:
            ref_name = "LoanDisbursementRequestInput"

    @extend_schema(operation_id="loans_disbursement_request", request=InputSerializer,
                   responses={201: DisbursementSerializer, **_COMMAND},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, contract_id: int):
        selectors.contract_get(viewer=request.user, contract_id=contract_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = disbursements.disbursement_request(contract_id=contract_id, actor=request.user,
                                                  **data.validated_data)
        return Response(DisbursementSerializer(item).data, status=status.HTTP_201_CREATED)


class _NoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)

    class Meta:
        ref_name = "LoanNoteInput"


class DisbursementApproveApi(IdempotentCommandMixin, APIView):
    """Approve a pending tranche (checker ≠ maker, independent of the file): books the loan.
    403: the maker or a participant of the credit decision; 409: not pending, value date
    passed, or conditions precedent open."""

    @extend_schema(operation_id="loans_disbursement_approve", request=_NoteInput,
                   responses={201: LoanSerializer, **_COMMAND},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, disbursement_id: int):
        selectors.disbursement_get(viewer=request.user, disbursement_id=disbursement_id)
        data = _NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        loan = disbursements.disbursement_approve(disbursement_id=disbursement_id,
                                                  actor=request.user, **data.validated_data)
        loan = selectors.loan_get(viewer=request.user, loan_id=loan.pk)
        return Response(LoanSerializer(loan).data, status=status.HTTP_201_CREATED)


class DisbursementRejectApi(IdempotentCommandMixin, APIView):
    """Reject a pending tranche with a note (checker). 400: no note; 403; 409: not pending."""

    @extend_schema(operation_id="loans_disbursement_reject", request=_NoteInput,
                   responses={200: DisbursementSerializer, **_COMMAND},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, disbursement_id: int):
        selectors.disbursement_get(viewer=request.user, disbursement_id=disbursement_id)
        data = _NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = disbursements.disbursement_reject(disbursement_id=disbursement_id,
                                                 actor=request.user, **data.validated_data)
        return Response(DisbursementSerializer(item).data)


class DisbursementCancelApi(IdempotentCommandMixin, APIView):
    """Withdraw one's own pending request. 403: not the maker; 409: not pending."""

    @extend_schema(operation_id="loans_disbursement_cancel", request=_NoteInput,
                   responses={200: DisbursementSerializer, **_COMMAND},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, disbursement_id: int):
        selectors.disbursement_get(viewer=request.user, disbursement_id=disbursement_id)
        data = _NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = disbursements.disbursement_cancel(disbursement_id=disbursement_id,
                                                 actor=request.user, **data.validated_data)
        return Response(DisbursementSerializer(item).data)


# --- loans ------------------------------------------------------------------------------------

class LoanListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        branch = serializers.IntegerField(required=False)
        state = serializers.ChoiceField(choices=LoanState.choices, required=False)
        officer = serializers.IntegerField(required=False)
        enterprise = serializers.IntegerField(required=False)
        contract = serializers.IntegerField(required=False)
        dpd_min = serializers.IntegerField(required=False, min_value=0)
        dpd_max = serializers.IntegerField(required=False, min_value=0)

        class Meta:
            ref_name = "LoanListFilter"

    @extend_schema(operation_id="loans_list", parameters=[FilterSerializer, *PAGE_PARAMETERS],
                   responses={200: paginated(LoanSerializer, "PaginatedLoanList"),
                              400: COMMAND_ERRORS[400]})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        loans = selectors.loan_list(viewer=request.user, filters=filters.validated_data)
        return paginate(loans, request, self, LoanSerializer)


class LoanDetailApi(APIView):
    @extend_schema(operation_id="loans_detail", responses={200: LoanSerializer})
    def get(self, request, loan_id: int):
        return Response(LoanSerializer(selectors.loan_get(viewer=request.user,
                                                          loan_id=loan_id)).data)


class LoanScheduleApi(APIView):
    @extend_schema(operation_id="loans_schedule",
                   parameters=[OpenApiParameter("version", int, description="Schedule version "
                                                "(default: the one in force).")],
                   responses={200: InstalmentSerializer(many=True)})
    def get(self, request, loan_id: int):
        loan = selectors.loan_get(viewer=request.user, loan_id=loan_id)
        try:
            version = int(request.query_params.get("version") or 0) or None
        except ValueError:
            version = None
        rows = selectors.loan_schedule(loan=loan, version=version)
        return Response(InstalmentSerializer(rows, many=True).data)


class LoanChangeRequestApi(IdempotentCommandMixin, APIView):
    """Ask to restructure, write off or transfer a loan (maker). 400: reason or terms;
    403; 409: loan not open, or a change already waiting."""

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=LoanChange.Kind.choices)
        reason = serializers.CharField(max_length=2000)
        terms = serializers.DictField(required=False, default=dict, help_text=(
            "Restructure only: annual_rate, term_months, method."))

        class Meta:
            ref_name = "LoanChangeRequestInput"

    @extend_schema(operation_id="loans_change_request", request=InputSerializer,
                   responses={201: ChangeSerializer, **_COMMAND},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, loan_id: int):
        selectors.loan_get(viewer=request.user, loan_id=loan_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = lifecycle.loan_change_request(loan_id=loan_id, actor=request.user,
                                               **data.validated_data)
        return Response(ChangeSerializer(change).data, status=status.HTTP_201_CREATED)


class LoanChangeDecideApi(IdempotentCommandMixin, APIView):
    """Approve or reject a change (checker ≠ maker). 400: rejection without a note; 403;
    409: not waiting or loan closed."""

    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=ChangeDecision.choices)
        note = serializers.CharField(max_length=2000, required=False, default="",
                                     allow_blank=True)

        class Meta:
            ref_name = "LoanChangeDecideInput"

    @extend_schema(operation_id="loans_change_decide", request=InputSerializer,
                   responses={200: LoanSerializer, **_COMMAND},
                   parameters=[IDEMPOTENCY_KEY_HEADER])
    def post(self, request, change_id: int):
        change = selectors.loan_change_get(viewer=request.user, change_id=change_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["decision"] == "approve":
            lifecycle.loan_change_approve(change_id=change_id, actor=request.user,
                                          note=data.validated_data["note"])
        else:
            lifecycle.loan_change_reject(change_id=change_id, actor=request.user,
                                         note=data.validated_data["note"])
        loan = selectors.loan_get(viewer=request.user, loan_id=change.loan_id)
        return Response(LoanSerializer(loan).data)

