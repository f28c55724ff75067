import io

import pytest
from django.core.management import CommandError, call_command

from operators.models import Operator, User
from tests.conftest import World

pytestmark = pytest.mark.django_db


def adduser(*args: str, password: str = "a-long-test-password-42") -> str:
    out = io.StringIO()
    stdin = io.StringIO(password + "\n")
    import sys  # noqa: PLC0415 - swapped only for this call

    old, sys.stdin = sys.stdin, stdin
    try:
        call_command("adduser", *args, stdout=out)
    finally:
        sys.stdin = old
    return out.getvalue()


def test_adduser_makes_company_staff_from_the_credit_code(world: World) -> None:
    code = world.company_a.credit_code
    out = adduser("ops1", "--role", "operator", "--operator", code.lower())
    user = User.objects.get(username="ops1")
    assert (user.role, user.operator, user.is_staff) == ("operator", world.company_a, False)
    assert user.check_password("a-long-test-password-42")
    assert "created ops1" in out


def test_adduser_makes_an_admin_superuser(db: None) -> None:
    adduser("root1", "--role", "admin")
    user = User.objects.get(username="root1")
    assert user.is_superuser
    assert user.is_staff


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x1", "--role", "operator"), "--operator"),
        (("x2", "--role", "bureau", "--operator", "91110000802100433B"), "--operator"),
        (("x3", "--role", "operator", "--operator", "91110000802100433B"), "no company"),
    ],
)
def test_adduser_refuses_inconsistent_role_and_company(
    world: World, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        adduser(*args)
    assert not User.objects.filter(username=args[0]).exists()


def test_adduser_refuses_a_weak_password(db: None) -> None:
    with pytest.raises(CommandError, match="password"):
        adduser("weak", "--role", "finance", password="123")
    assert not User.objects.filter(username="weak").exists()


def test_adduser_refuses_a_taken_username(world: World) -> None:
    with pytest.raises(CommandError, match="username"):
        adduser(world.bureau.username, "--role", "finance")


def test_demo_data_loads_once_and_prints_credentials(db: None) -> None:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=out)
    assert "already loaded" in out.getvalue()
    assert "yangquan-demo-2026" in out.getvalue()
    assert Operator.objects.count() == 3
    assert User.objects.filter(username__in=["bureau", "finance", "admin"]).count() == 3
    for operator in Operator.objects.all():
        operator.full_clean()  # every credit code and VIN in the demo is valid
        for vehicle in operator.vehicles.all():
            vehicle.full_clean()
