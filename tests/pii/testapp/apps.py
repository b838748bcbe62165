from django.apps import AppConfig


class PiiTestAppConfig(AppConfig):
    name = "tests.pii.testapp"
    label = "pii_testapp"
