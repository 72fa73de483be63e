"""The data layer's pages under ``/data/``: one module per part."""
