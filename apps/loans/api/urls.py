from django.urls import path

from apps.loans.api import feed, views

urlpatterns = [
    path("contracts/applications/<int:application_id>/", views.ContractCreateApi.as_view(),
         name="api-loans-contract-create"),
    path("contracts/<int:contract_id>/", views.ContractDetailApi.as_view(),
         name="api-loans-contract-detail"),
    path("contracts/<int:contract_id>/pdf/", views.ContractPdfApi.as_view(),
         name="api-loans-contract-pdf"),
    path("contracts/<int:contract_id>/disbursements/", views.DisbursementRequestApi.as_view(),
         name="api-loans-disbursement-request"),
    path("loans/disbursements/<int:disbursement_id>/approve/",
         views.DisbursementApproveApi.as_view(), name="api-loans-disbursement-approve"),
    path("loans/disbursements/<int:disbursement_id>/reject/",
         views.DisbursementRejectApi.as_view(), name="api-loans-disbursement-reject"),
    path("loans/disbursements/<int:disbursement_id>/cancel/",
         views.DisbursementCancelApi.as_view(), name="api-loans-disbursement-cancel"),
    path("loans/", views.LoanListApi.as_view(), name="api-loans-list"),
    path("loans/<int:loan_id>/", views.LoanDetailApi.as_view(), name="api-loans-detail"),
    path("loans/<int:loan_id>/schedule/", views.LoanScheduleApi.as_view(),
         name="api-loans-schedule"),
    path("loans/<int:loan_id>/changes/", views.LoanChangeRequestApi.as_view(),
         name="api-loans-change-request"),
    path("loans/changes/<int:change_id>/decide/", views.LoanChangeDecideApi.as_view(),
         name="api-loans-change-decide"),
    # Core-banking feed (servicing).
    path("loans/feed/", feed.FeedImportApi.as_view(), name="api-loans-feed"),
    path("loans/feed/<int:import_id>/", feed.FeedImportDetailApi.as_view(),
         name="api-loans-feed-detail"),
]
