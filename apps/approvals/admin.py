"""Admin of approvals: the authority matrix (rows editable while a draft, published through the
service: validated for gaps and overlaps, four-eyes), committees and their pools, delegations
(granted and revoked through the services). Routes, signatures and votes are read-only here:
they change only through the sign-off services, whatever the path."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.approvals import services
from apps.approvals.matrix import step_problems
from apps.approvals.models import (
    ApprovalRoute,
    ApprovalStep,
    AuthorityMatrix,
    AuthorityRule,
    Committee,
    CommitteeMember,
    Delegation,
    SignOff,
    Vote,
)
from apps.approvals.states import MatrixState
from apps.audit.services import audit_record
from apps.core.exceptions import DomainError


class RuleForm(forms.ModelForm):
    class Meta:
        model = AuthorityRule
        fields = ("row", "product", "amount_above", "amount_up_to", "grades",
                  "policy_exception", "steps", "evidence", "source_citation")

    def clean_steps(self):
        steps = self.cleaned_data["steps"]
        problems = step_problems(steps)
        if problems:
            raise ValidationError(problems)
        return steps


class RuleInline(admin.TabularInline):
    model = AuthorityRule
    form = RuleForm
    extra = 0

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.state == MatrixState.DRAFT

    has_add_permission = has_delete_permission = has_change_permission


@admin.register(AuthorityMatrix)
class AuthorityMatrixAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "state", "effective_from", "effective_to")
    readonly_fields = ("state", "published_by", "published_at", "effective_from",
                       "effective_to", "created_by")
    inlines = [RuleInline]
    actions = ["publish_today"]

    def save_model(self, request, obj, form, change):
        if change and obj.state != MatrixState.DRAFT:
            raise PermissionDenied(_("A published matrix is never edited: draft a new version."))
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        audit_record(action="authority_matrix.changed" if change else "authority_matrix.created",
                     actor=request.user, subject=obj,
                     payload={"version": obj.version, "name": obj.name, "grades": obj.grades})

    def save_formset(self, request, form, formset, change):
        """Row edits of a draft are audited like the service's additions (the admin view runs
        in one transaction, so a refused save leaves no event)."""
        super().save_formset(request, form, formset, change)
        for rule in formset.new_objects + [obj for obj, _fields in formset.changed_objects]:
            audit_record(action="authority_rule.added", actor=request.user,
                         subject=form.instance, payload={
                             "row": rule.row, "product": rule.product.code,
                             "amount_above": rule.amount_above,
                             "amount_up_to": rule.amount_up_to, "grades": rule.grades,
                             "policy_exception": rule.policy_exception, "steps": rule.steps})
        for rule in formset.deleted_objects:
            audit_record(action="authority_rule.removed", actor=request.user,
                         subject=form.instance, payload={"row": rule.row})

    @admin.action(description=_("Publish (in force today), after checking gaps and overlaps"))
    def publish_today(self, request, queryset):
        for matrix in queryset:
            try:
                services.authority_matrix_publish(matrix_id=matrix.pk, actor=request.user,
                                                  effective_from=timezone.localdate())
            except ValidationError as exc:
                for problem in exc.message_dict.get("rules", exc.messages):
                    self.message_user(request, f"{matrix}: {problem}", messages.ERROR)
            except (PermissionDenied, DomainError) as exc:
                self.message_user(request, f"{matrix}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _("%(matrix)s published.") % {"matrix": matrix})


class SeatInline(admin.TabularInline):
    model = CommitteeMember
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Committee)
class CommitteeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "scope", "branch", "quorum", "pass_rule")
    inlines = [SeatInline]


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("delegator", "delegate", "starts_at", "ends_at", "revoked_at")
    fields = ("delegator", "delegate", "starts_at", "ends_at", "reason")
    autocomplete_fields = ("delegator", "delegate")
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Through the service: checks, and the audit event, whatever the path.
        try:
            created = services.delegation_grant(
                delegator=obj.delegator, delegate=obj.delegate, starts_at=obj.starts_at,
                ends_at=obj.ends_at, reason=obj.reason, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk = created.pk

    @admin.action(description=_("Revoke"))
    def revoke(self, request, queryset):
        for delegation in queryset:
            services.delegation_revoke(delegation_id=delegation.pk, actor=request.user)
        self.message_user(request, ngettext("%(n)s delegation revoked.",
                                            "%(n)s delegations revoked.", queryset.count())
                          % {"n": queryset.count()})


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApprovalRoute)
class ApprovalRouteAdmin(ReadOnlyAdmin):
    list_display = ("application", "round", "state", "grade", "amount_basis",
                    "policy_exception")


@admin.register(ApprovalStep)
class ApprovalStepAdmin(ReadOnlyAdmin):
    list_display = ("route", "position", "kind", "level", "committee", "state", "due_at")
    list_filter = ("state", "kind")


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ("step", "signer", "on_behalf_of", "decision", "authority_level",
                    "signed_at")


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ("step", "member", "choice", "is_dissent", "cast_at")
