import itertools

import factory
from django.contrib.auth.models import Group, Permission

from apps.accounts.models import User
from apps.org.models import Branch
from apps.parties.models import Enterprise, Person
from apps.parties.validators import resident_id_check_char, uscc_check_char

_serial = itertools.count(1)


def make_uscc(n: int | None = None, region: str = "330106") -> str:
    first17 = f"91{region}{(n if n is not None else next(_serial)):09d}"
    return first17 + uscc_check_char(first17)


def make_resident_id(n: int | None = None, born: str = "19800101", region: str = "110105") -> str:
    first17 = f"{region}{born}{(n if n is not None else next(_serial)) % 1000:03d}"
    return first17 + resident_id_check_char(first17)


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"b{n}")
    name = factory.Sequence(lambda n: f"Branch {n}")


class EnterpriseFactory(factory.django.DjangoModelFactory):
    """Raw rows for selector and constraint tests; services get their own inputs."""

    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    uscc = factory.LazyFunction(make_uscc)
    industry = "C"
    branch = factory.SubFactory(BranchFactory)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"张{n}")
    resident_id = factory.LazyFunction(make_resident_id)
    phone = "13800138000"


def make_user(username: str, *, branch=None, roles=(), perms=()) -> User:
    user = User.objects.create_user(username=username, password="x", branch=branch)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    for code in perms:
        app_label, codename = code.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    return User.objects.get(pk=user.pk)  # fresh: no cached roles or permissions
