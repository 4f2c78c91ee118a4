"""Historical models rendered by migrations get no django-fsm transition collector.

django-fsm-2's state field connects a `class_prepared` receiver for every model class it is
added to, and each receiver then runs for every class prepared afterwards. Migrations render
historical copies of the models (~16,000 classes over a full migrate here), so the receivers
grew into the hundreds and the signal's dispatch took about half of `migrate`'s time — the
suite's test databases, `make run`'s first start and every deployment paid it. A historical
model (module `__fake__`) has no transition methods to collect, so its field skips the receiver
and keeps the rest (the column, the protecting descriptor).
"""

from django_fsm import FSMFieldMixin

HISTORICAL_MODULE = "__fake__"  # django.db.migrations.state.ModelState.render


def install() -> None:
    collecting = FSMFieldMixin.contribute_to_class
    if getattr(collecting, "skips_historical", False):
        return

    def contribute_to_class(self, cls, name, private_only=False, **kwargs):
        if cls.__module__ != HISTORICAL_MODULE:
            return collecting(self, cls, name, private_only=private_only, **kwargs)
        self.base_cls = cls
        super(FSMFieldMixin, self).contribute_to_class(cls, name, private_only=private_only,
                                                       **kwargs)
        setattr(cls, self.name, self.descriptor_class(self))
        return None

    contribute_to_class.skips_historical = True
    FSMFieldMixin.contribute_to_class = contribute_to_class
