from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project package as an app only for its management commands (load_demo), which
    reach into every app. Its models live in `core` (label `yangquan_av`)."""

    name = "yangquan_av"
    label = "project"
