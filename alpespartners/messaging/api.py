from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import CommandLog, CommandStatus


class CommandOutput(serializers.ModelSerializer):
    command_id = serializers.UUIDField(source="id")

    class Meta:
        model = CommandLog
        fields = ["command_id", "type", "status", "resource_id", "error", "result", "created_at", "completed_at"]


class CommandDetailView(APIView):
    @extend_schema(responses=CommandOutput, summary="Estado de un comando")
    def get(self, request, command_id):
        queryset = CommandLog.objects.all()
        if not request.user.is_staff:
            queryset = queryset.filter(issued_by=request.user)
        return Response(CommandOutput(get_object_or_404(queryset, id=command_id)).data)


class CommandAcceptedOutput(serializers.Serializer):
    command_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=CommandStatus.choices)
    resource_id = serializers.UUIDField(allow_null=True)
    links = serializers.DictField(child=serializers.CharField(allow_null=True))
