# Importing the Celery app here makes every producer (web, shell, tests) use our broker settings;
# without it a producer falls back to amqp://localhost and is refused.
from config.celery import app as celery_app

__all__ = ("celery_app",)
