from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project package as an app only for its management commands (load_demo), which
    reach into every app, and the wiring between apps' pages that none of them may import
    (ready). Its models live in `core` (label `yangquan_av`)."""

    name = "yangquan_av"
    label = "project"

    def ready(self) -> None:
        from .origins import register  # noqa: PLC0415 - the apps' modules once apps are ready

        register()
