"""`make run` on a laptop: DEBUG on unless told otherwise; same services as production when set."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
