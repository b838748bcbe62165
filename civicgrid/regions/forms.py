from django import forms
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class GenerationUploadForm(forms.Form):
    name = forms.CharField(label=_("Generation name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    file = forms.FileField(
        label=_("GeoJSON file"), help_text=_("FeatureCollection of polygons, WGS-84 lon/lat.")
    )
    commit = forms.BooleanField(
        label=_("Write it"), required=False, help_text=_("Leave unticked for a dry run that writes nothing.")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB."))
        return upload
