from apps.core.policy import PolicyVersionState

# A product version's states are those of every version of policy data (apps.core.models.
# PublishedVersion); the name stays for the code that reads them.
ProductVersionState = PolicyVersionState
