"""A Celery app for the crash test: the real app, with the bank-statement check slowed down
in whichever process runs the task, so the test can kill the worker mid-check."""

import time

from celery.signals import task_prerun

from config.celery import app

__all__ = ["app"]


@task_prerun.connect
def _slow_down(**kwargs):
    from apps.documents.checks import records

    original = records.check_bank_statement
    if getattr(original, "slowed", False):
        return

    def slowed(ctx):
        time.sleep(60)
        return original(ctx)

    slowed.slowed = True
    records.check_bank_statement = slowed
