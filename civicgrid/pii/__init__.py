"""Protected personal data: encrypted fields, masking, validators, blind indexes, key rotation.

Plain Python plus Django fields; it is an app only so that ``civicgrid pii …`` (key rotation)
and the key-file check are found. Kept free of imports here so that ``settings.py`` can import
``civicgrid.pii.keys`` before Django is set up.
"""
