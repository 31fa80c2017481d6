"""Source connectors. Each connector yields ``Row``/``Rejected`` items for raw entities.

The registry maps a source ``type`` (as used in townsquare.yml and ``townsquare ingest``)
to its connector class.
"""
