"""Case pages, one module per door: ``portal`` (applicants online), ``window`` (the hall's
comprehensive window), ``workbench`` (departments, heads, proxy agents), ``notices`` (printable
notices) and ``verify`` (the public page a document's QR code opens)."""
