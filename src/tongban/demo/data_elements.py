"""The demo city's data layer: the standard code lists and the element dictionary.

The dictionary is data (``tongban/exchange/data/demo-elements.csv``, columns documented in
``docs/data-elements.md``): every element is saved and published by the system through the
element services, so loading twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from tongban.accounts.permissions import SYSTEM
from tongban.exchange.codelists import load_bundled_code_lists
from tongban.exchange.services import elements as element_services

DEMO_ELEMENTS = (Path(element_services.__file__).resolve().parents[1] / "data"
                 / "demo-elements.csv")


def load_data_elements() -> None:
    """The bundled code lists (GB/T 2260, 2261.1, 2261.2, 4658, 3304, GA/T 517), then the
    published demo dictionary."""
    load_bundled_code_lists(actor=SYSTEM)
    element_services.elements_load(actor=SYSTEM,
                                   elements=element_services.elements_from_csv(DEMO_ELEMENTS))
