from django.db import models

from civicgrid.pii.fields import BlindIndexField, EncryptedTextField
from civicgrid.pii.kinds import PIIKind


class Resident(models.Model):
    name = EncryptedTextField(kind=PIIKind.NAME)
    # Declared before its source on purpose: the index must not depend on field order.
    id_number_index = BlindIndexField()
    id_number = EncryptedTextField(kind=PIIKind.ID_NUMBER, index_field="id_number_index", blank=True)
    phone = EncryptedTextField(kind=PIIKind.PHONE, index_field="phone_index", blank=True, null=True)
    phone_index = BlindIndexField()
    address = EncryptedTextField(kind=PIIKind.ADDRESS, blank=True)
    tags = EncryptedTextField(kind=PIIKind.TAGS, blank=True)
    note = models.CharField(max_length=100, blank=True)

    class Meta:
        app_label = "pii_testapp"

    def __str__(self) -> str:
        return str(self.name)  # masked, like every other output
