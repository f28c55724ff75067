"""`manage.py adduser NAME --role ROLE [--operator CREDIT_CODE]`, password on stdin."""

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.roles import Role
from operators.identifiers import normalise_credit_code
from operators.models import Operator
from operators.services import user_create


class Command(BaseCommand):
    help = "Create a user account. The password is read from standard input."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--operator", help="the company's credit code (role operator)")

    def handle(
        self, *args: Any, username: str, role: str, operator: str | None, **options: Any
    ) -> None:
        company = None
        if operator:
            company = Operator.objects.filter(credit_code=normalise_credit_code(operator)).first()
            if company is None:
                raise CommandError(f"--operator: no company with credit code {operator}")
        if role == Role.OPERATOR and company is None:
            raise CommandError("--operator: company staff need their company's credit code")
        if role != Role.OPERATOR and company is not None:
            raise CommandError("--operator: only company staff (role operator) belong to one")
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("password: none given on standard input")
        try:
            user = user_create(
                actor=None, username=username, password=password, role=role, operator=company
            )
        except ValidationError as exc:
            fields = exc.message_dict if hasattr(exc, "error_dict") else {"password": exc.messages}
            raise CommandError(
                "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
            ) from exc
        self.stdout.write(f"created {user.username} ({user.role})")
