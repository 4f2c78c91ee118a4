"""The documents app's side of the evidence contract (apps/investigations/evidence.py): what
the investigation's controls learn from collected photos and parsed records."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from apps.core.compiled import compiled_query, run
from apps.documents.checks.phash import to_hex, to_unsigned
from apps.documents.checks.photo import device_position, parse_exif_time
from apps.documents.checks.records import last_12
from apps.documents.models import Document, DocumentCheck, PhotoHash
from apps.documents.photo_reuse import similar_photos
from apps.documents.states import CHECK_DONE, CheckKind, CheckStatus, DocumentState
from apps.investigations.evidence import PhotoEvidence, PhotoReuse

K = CheckKind
_FIGURE_CHECKS = (K.BANK_STATEMENT, K.TAX_RECORD, K.UTILITY_BILL)


def _usable(application_id: int):
    """Documents that count as evidence: not quarantined, not superseded by a failure."""
    return (Document.objects.filter(application_id=application_id, quarantined=False)
            .exclude(state=DocumentState.FAILED))


class DocumentEvidenceSource:
    """Registered in DocumentsConfig.ready(); every method is a few indexed queries."""

    def photos(self, application_id: int) -> list[PhotoEvidence]:
        checks = {c.document_id: c for c in DocumentCheck.objects.filter(
            document__application_id=application_id, document__quarantined=False,
            kind=K.PHOTO)}
        hashes = dict(PhotoHash.objects.filter(document_id__in=checks)
                      .values_list("document_id", "value"))
        tz = timezone.get_current_timezone()
        photos = []
        for document in (Document.objects.filter(pk__in=checks).order_by("uploaded_at", "pk")):
            exif = document.metadata.get("exif") or {}
            gps = exif.get("gps") or {}
            device = device_position(document.metadata)
            phash = hashes.get(document.pk)
            photos.append(PhotoEvidence(
                document_id=document.pk, application_id=document.application_id,
                uploaded_at=document.uploaded_at, uploaded_by_id=document.uploaded_by_id,
                taken_at=parse_exif_time(exif.get("taken_at"), tz),
                taken_lat=float(gps["lat"]) if "lat" in gps else None,
                taken_lng=float(gps["lon"]) if "lon" in gps else None,
                device_lat=device[0] if device else None,
                device_lng=device[1] if device else None,
                phash=to_hex(phash) if phash is not None else None,
                checked=checks[document.pk].status in CHECK_DONE))
        return photos

    def photo_reuse(self, application_id: int, *, max_distance: int) -> list[PhotoReuse]:
        found = []
        for document_id, value in PhotoHash.objects.filter(
                application_id_copy=application_id).values_list("document_id", "value"):
            for other, other_application, distance in similar_photos(
                    to_unsigned(value), max_distance=max_distance,
                    exclude_application_id=application_id):
                found.append(PhotoReuse(document_id=document_id, other_document_id=other,
                                        other_application_id=other_application,
                                        distance=distance))
        return found

    def edited_photo_reuse(self, application_id: int, *, candidate_distance: int,
                           max_distance: int, min_pairs: int, document_ids=None,
                           same_application: bool = False) -> list[PhotoReuse]:
        from apps.documents import photo_fingerprints
        from apps.documents.models import PhotoFingerprint

        mine = PhotoFingerprint.objects.filter(application_id_copy=application_id,
                                               document__quarantined=False)
        if document_ids is not None:
            mine = mine.filter(document_id__in=[int(d) for d in document_ids])
        return [PhotoReuse(document_id=m.document_id, other_document_id=m.other_document_id,
                           other_application_id=m.other_application_id, distance=m.distance)
                for m in photo_fingerprints.reuse_of(
                    mine.values_list("document_id", flat=True),
                    candidate_distance=candidate_distance, max_distance=max_distance,
                    min_pairs=min_pairs, same_application=same_application)]

    def figures(self, application_id: int) -> dict[str, Decimal | None]:
        """Figures over all the application's parsed records: statements of several accounts
        are combined month by month, then the same 12-month window is taken."""
        return run(self.figures_steps(application_id))

    def figures_steps(self, application_id: int):
        """`figures` as a step of `apps.core.compiled.run_together` (the scoring worker sends
        its query with the application's other reads); the query is compiled once."""
        (checks,) = yield [compiled_query(
            "document_figures", lambda marker: list(
                DocumentCheck.objects
                .filter(document__in=_usable(marker), kind__in=_FIGURE_CHECKS,
                        status__in=[CheckStatus.PASSED, CheckStatus.ATTENTION])
                .values_list("kind", "findings")), application_id,
            output_fields=[DocumentCheck._meta.get_field("kind"),
                           DocumentCheck._meta.get_field("findings")])]
        bank_in: dict[str, Decimal] = defaultdict(Decimal)
        bank_out: dict[str, Decimal] = defaultdict(Decimal)
        counterparties: dict[str, Decimal] = defaultdict(Decimal)
        round_trip = total_in = Decimal(0)
        large_cash, seen_bank = 0, False
        series: dict[str, dict[str, dict[str, Decimal]]] = {
            "tax": defaultdict(lambda: defaultdict(Decimal)),
            "utility": defaultdict(lambda: defaultdict(Decimal))}
        for kind, findings in checks:
            if "monthly" not in findings or findings.get("verified") is False:
                continue  # issue 19: an unverified record's figures do not count
            if kind == K.BANK_STATEMENT:
                seen_bank = True
                for month, values in findings["monthly"].items():
                    bank_in[month] += Decimal(values["in"])
                    bank_out[month] += Decimal(values["out"])
                for name, amount in findings.get("counterparty_inflows", {}).items():
                    counterparties[name] += Decimal(amount)
                round_trip += Decimal(findings.get("round_trip_inflow", "0"))
                total_in += Decimal(findings.get("total_inflow", "0"))
                large_cash += int(findings.get("large_cash_count", 0))
            else:
                target = series["tax" if kind == K.TAX_RECORD else "utility"]
                for month, values in findings["monthly"].items():
                    for name, amount in values.items():
                        target[month][name] += Decimal(amount)
        out: dict[str, Decimal | None] = {}
        if seen_bank:
            window = last_12(list(bank_in))
            out["bank.inflows_12m"] = sum((bank_in[m] for m in window), Decimal(0))
            out["bank.outflows_12m"] = sum((bank_out[m] for m in window), Decimal(0))
            out["bank.months_covered"] = Decimal(len(bank_in))
            share = max(counterparties.values(), default=Decimal(0))
            out["bank.top_counterparty_share"] = _ratio(share, total_in)
            out["bank.round_trip_share"] = _ratio(round_trip, total_in)
            out["bank.large_cash_count"] = Decimal(large_cash)
        for prefix, fields in (("tax", {"revenue": "tax.revenue_12m",
                                        "tax_paid": "tax.paid_12m"}),
                               ("utility", {"kwh": "utility.kwh_12m"})):
            monthly = series[prefix]
            if not monthly:
                continue
            window = last_12(list(monthly))
            for name, key in fields.items():
                out[key] = sum((monthly[m][name] for m in window), Decimal(0))
        return out


    def record_status(self, application_id: int) -> dict[str, list[dict]]:
        """Per figure prefix ("bank", "tax", "utility"): each record document and whether its
        figures verified, and why not (issue 19: the investigation says what went unverified)."""
        prefixes = {K.BANK_STATEMENT: "bank", K.TAX_RECORD: "tax", K.UTILITY_BILL: "utility"}
        found: dict[str, list[dict]] = defaultdict(list)
        for document_id, kind, status, findings in (
                DocumentCheck.objects.filter(document__in=_usable(application_id),
                                             kind__in=_FIGURE_CHECKS)
                .order_by("document_id").values_list("document_id", "kind", "status",
                                                      "findings")):
            findings = findings or {}
            if status not in CHECK_DONE:
                reason = "pending"
            elif findings.get("skipped") == "not a spreadsheet":
                reason = "not_tabular"
            elif findings.get("verified") is False:
                reason = findings.get("unverified_reason") or "unreadable"
            elif "monthly" not in findings:
                reason = "unreadable"
            else:
                reason = ""
            found[prefixes[kind]].append({"document_id": document_id, "verified": not reason,
                                          "reason": reason})
        return dict(found)

    def flow_findings(self, application_id: int) -> list[dict]:
        """The flow flags of the application's statements, each with its document."""
        found = []
        for document_id, findings in (
                DocumentCheck.objects.filter(document__in=_usable(application_id),
                                             kind=K.BANK_STATEMENT)
                .order_by("document_id").values_list("document_id", "findings")):
            for item in (findings or {}).get("flags") or []:
                if str(item.get("code", "")).startswith("flow_"):
                    found.append({"document_id": document_id, **item})
        return found


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(Decimal("0.0001")) if whole > 0 else None


__all__ = ["DocumentEvidenceSource"]
