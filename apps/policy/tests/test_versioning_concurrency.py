"""Two versions of one series published at the same moment leave one in force (PostgreSQL)."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.core.policy import PolicyVersionState as S
from apps.investigations import policy_services
from apps.investigations.models import PolicyValue


def _user(name, *codenames):
    user = User.objects.create_user(username=name, password="x")  # noqa: S106
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="row locks under concurrency need PostgreSQL; SQLite locks the file")
@pytest.mark.django_db(transaction=True)
def test_concurrent_publishers_leave_exactly_one_version_in_force():
    PolicyValue.objects.create(key="race.key", value=Decimal("1"), version=1,
                               effective_from=dt.date(2024, 1, 1))
    drafter = _user("drafter", "add_policyvalue")
    checkers = [_user(f"checker{i}", "publish_policyvalue") for i in range(2)]
    drafts = [policy_services.policy_value_draft(key="race.key", actor=drafter,
                                                 value=Decimal(str(n))) for n in (2, 3)]
    barrier, errors = threading.Barrier(2), []

    def publish(draft, checker):
        try:
            barrier.wait(timeout=30)
            policy_services.policy_value_publish(value_id=draft.pk, actor=checker,
                                                 effective_from=timezone.localdate())
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=pair)
               for pair in zip(drafts, checkers, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    states = dict(PolicyValue.all_versions.filter(key="race.key")
                  .values_list("version", "state"))
    assert list(states.values()).count(S.PUBLISHED) == 1
    assert states[1] == S.RETIRED
