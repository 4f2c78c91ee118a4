"""The credit-policy team's shared machinery: one way to draft, publish and retire a version of
any kind of policy data (apps.policy.versioning). No models of its own: the kinds live in their
apps and inherit `apps.core.models.PublishedVersion`."""
