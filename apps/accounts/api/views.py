from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class MeApi(APIView):
    """Who the caller is: roles, branch and authority level, for integrations to check a token."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        display_name = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())
        branch = serializers.CharField(source="branch.code", allow_null=True, default=None)
        authority_level = serializers.IntegerField(allow_null=True)

    @extend_schema(responses={200: OutputSerializer}, operation_id="me_retrieve")
    def get(self, request):
        user = request.user
        data = self.OutputSerializer({
            "id": user.pk, "username": user.username, "display_name": user.display_name,
            "roles": sorted(user.roles), "branch": user.branch,
            "authority_level": user.authority_level,
        }).data
        return Response(data)
