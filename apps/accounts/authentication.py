"""The API's token authentication, with the caller's rights kept as a session keeps them.

A module of its own, importing nothing of the apps at load: DRF imports the authentication
classes named in settings while the models are still being loaded.
"""

from rest_framework.authentication import TokenAuthentication


class CachedRightsTokenAuthentication(TokenAuthentication):
    """DRF's token authentication (one query: the token with its user row), then the roles,
    permissions and branch subtree from the cache keyed by the person's `authz_version`
    (apps.accounts.authz.authz_prime_cached) instead of four reads on every call. A session
    caller needs none of this: SessionAuthentication hands on the request.user that
    AuthzSessionMiddleware primed."""

    def authenticate_credentials(self, key):
        from apps.accounts.authz import authz_prime_cached  # models are loaded by now

        user, token = super().authenticate_credentials(key)
        return authz_prime_cached(user), token
