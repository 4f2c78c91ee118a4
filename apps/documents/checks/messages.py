"""Words for the check findings, in the reader's language. Findings store a code and figures;
the text is chosen at display time so a Chinese-speaking reviewer reads Chinese."""

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "policy_missing": _("Policy value %(key)s is not configured, so this was not checked."),
    "photo_no_capture_time": _("The photo carries no capture time."),
    "photo_time_mismatch": _("The photo was taken %(hours)s hours before upload (limit "
                             "%(limit)s)."),
    "photo_no_gps": _("The photo carries no GPS position."),
    "photo_far_from_device": _("The photo's GPS is %(metres)s m from where the phone was at "
                               "upload (limit %(limit)s m)."),
    "photo_outside_geofence": _("The photo was taken %(metres)s m from the operating address "
                                "(limit %(limit)s m)."),
    "site_position_unknown": _("The enterprise has no operating position on file to compare "
                               "the photo with."),
    "photo_reused": _("The photo matches document %(other)s of application %(application)s "
                      "(%(distance)s bits apart)."),
    "photo_reused_edited": _("The photo is an edited copy (crop, turn, colour or re-save) of "
                             "document %(other)s of application %(application)s (%(distance)s "
                             "bits apart)."),
    "pdf_no_text": _("The PDF has no text layer (a scan): figures cannot be read from it."),
    "pdf_modified_after_creation": _("The PDF was modified (%(modified)s) after it was "
                                     "created (%(created)s)."),
    "table_unreadable": _("The spreadsheet could not be read."),
    "no_column_profile": _("No column profile matches this file's headers; ask an "
                           "administrator to add the bank's layout."),
    "no_transactions": _("No transactions were found in the statement."),
    "no_records": _("No monthly records were found in the file."),
    "records_not_tabular": _("Not a spreadsheet export: no figures were parsed."),
    "statement_too_short": _("The statements cover %(value)s months; policy asks for at "
                             "least %(limit)s."),
    "counterparty_concentration": _("One counterparty brings %(value)s of inflows (limit "
                                    "%(limit)s)."),
    "round_tripping": _("%(value)s of inflows went back to the same counterparty within days "
                        "(limit %(limit)s)."),
    "large_cash": _("%(value)s large cash transactions (limit %(limit)s)."),
    "round_numbers": _("%(value)s of transactions are round amounts (limit %(limit)s)."),
    "series_decline": _("%(field)s fell %(change)s year on year (limit %(limit)s)."),
    "zero_filings": _("%(months)s months declare zero revenue."),
    "no_expiry": _("No expiry date applies."),
    "expired": _("The document expired on %(expires_on)s."),
    "expires_soon": _("The document expires on %(expires_on)s (%(days)s days left)."),
    "check_crashed": _("The check stopped without a result: %(error)s"),
    # issue 19: any layout read; flows between counterparties
    "column_mapping_unconfirmed": _("The columns were inferred with confidence %(confidence)s "
                                    "(needs %(limit)s): confirm the proposed mapping once for "
                                    "this bank, and its figures will be read."),
    "columns_inferred": _("Columns inferred from the file (confidence %(confidence)s)."),
    "balance_discontinuity": _("The running balance does not add up on %(breaks)s rows "
                               "(accepted: %(limit)s): the statement was edited or mis-read, so "
                               "its figures are not treated as verified."),
    "meter_discontinuity": _("The meter readings do not add up on %(breaks)s rows (accepted: "
                             "%(limit)s): the record was edited or mis-read, so its figures are "
                             "not treated as verified."),
    "tax_inconsistent": _("The tax record does not add up in %(breaks)s places (accepted: "
                          "%(limit)s): %(rate_breaks)s months whose tax is not their taxable "
                          "base times the rate, %(totals_breaks)s totals that are not the sum "
                          "of the months, %(period_breaks)s months listed twice or missing. "
                          "The record was edited or mis-read, so its figures are not treated "
                          "as verified."),
    "flow_round_trips": _("%(cycles)s round trips: %(amount)s sent out and returned within "
                          "%(lag_days)s days (same, related or chained counterparties; "
                          "flagged from %(limit)s)."),
    "flow_regular_payments": _("%(payments)s monthly payments of about %(monthly)s to "
                               "%(counterparty)s: looks like debt service; was this debt "
                               "declared?"),
    "flow_cash_concentration": _("Cash brings %(share)s of money in (limit %(limit)s)."),
    "flow_cash_below_reporting": _("%(count)s cash deposits just under the large-cash amount "
                                   "of %(reporting_amount)s (limit %(limit)s)."),
}


def flag_text(item: dict) -> str:
    template = MESSAGES.get(item.get("code"))
    if template is None:
        return str(item.get("code"))
    try:
        return str(template) % item.get("params", {})
    except (KeyError, TypeError, ValueError):
        return str(item.get("code"))
