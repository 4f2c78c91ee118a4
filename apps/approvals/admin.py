"""Admin of approvals: the authority matrix and its rows are read-only here (drafted, checked
for gaps and overlaps, published four-eyes and retired in the policy workbench, through the
services, which audit every change); committees and their pools; delegations (granted and
revoked through the services). Routes, signatures and votes are read-only here: they change
only through the sign-off services, whatever the path."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.approvals import services
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
from apps.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline


class RuleInline(ReadOnlyTabularInline):
    model = AuthorityRule
    fields = ("row", "product", "amount_above", "amount_up_to", "grades", "policy_exception",
              "steps", "evidence", "source_citation")


@admin.register(AuthorityMatrix)
class AuthorityMatrixAdmin(ReadOnlyAdmin):
    list_display = ("name", "version", "state", "effective_from", "effective_to")
    list_filter = ("state",)
    inlines = [RuleInline]


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
