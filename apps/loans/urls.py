from django.urls import path

from apps.loans import feed_views, views

app_name = "loans"

urlpatterns = [
    path("", views.loan_list, name="list"),
    path("<int:loan_id>/", views.loan_detail, name="detail"),
    path("<int:loan_id>/changes/", views.loan_change_request, name="change-request"),
    path("changes/<int:change_id>/<str:decision>/", views.loan_change_decide,
         name="change-decide"),
    path("contracts/new/<int:application_id>/", views.contract_create, name="contract-create"),
    path("contracts/<int:contract_id>/", views.contract_detail, name="contract"),
    path("contracts/<int:contract_id>/pdf/", views.contract_pdf, name="contract-pdf"),
    path("contracts/<int:contract_id>/disbursements/", views.disbursement_request,
         name="disbursement-request"),
    path("disbursements/<int:disbursement_id>/<str:decision>/", views.disbursement_decide,
         name="disbursement-decide"),
    # Core-banking feed (servicing).
    path("feed/", feed_views.feed_imports, name="feed-imports"),
]
