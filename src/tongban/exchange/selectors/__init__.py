"""The data layer's reads, one module per part (``elements``, ``resources``, ``sharing``)."""
