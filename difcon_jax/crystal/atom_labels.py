"""Elements from atom-site labels that are not element names (AMCSD files carry labels, no type symbols).

gemmi reads the element from the label's leading letters; these rules cover the labels it cannot read.
Only unambiguous conventions are mapped; anything else stays unknown and the file is skipped with the
label named. The documented list:

============================ ======= ==========================================================
label                        element why
============================ ======= ==========================================================
``Wat``, ``Wat1``, ``Wat(3)``, O      water oxygen (AMCSD's convention; H is rarely located)
``WatA2``, ``Wat-Int``
``Ow``, ``OW3``, ``Oab``,     O      O followed by a site descriptor that is not an element
``Oint``, ``OI``, ``Ol``              name (``Os`` stays osmium: it *is* an element)
X + uppercase descriptor     X      one-letter element then an uppercase site name (``KA``
(``KA1``, ``BT``, ``HA``,             = K on site A): element symbols never have an uppercase
``VT``, ``UA``, ``YA``)               second letter. Only for the one-letter elements below.
============================ ======= ==========================================================

``W`` + descriptor is *not* mapped (tungsten or water?), nor ``N`` + descriptor (N or a Na site?), nor a
lowercase letter after a non-O letter (``Sl``: S or Si?).
"""

from __future__ import annotations

import re

import gemmi

_ONE_LETTER = frozenset("B C F H I K O P S U V Y".split())  # one-letter elements safe before a site name
_WATER = re.compile(r"^wat", re.IGNORECASE)


def _is_element(symbol: str) -> bool:

    return gemmi.Element(symbol).name != "X" and gemmi.Element(symbol).name.lower() == symbol.lower()


def element_from_label(label: str) -> str | None:
    """The element an AMCSD-style label stands for under the documented rules, or None."""
    label = label.strip()
    if not label:
        return None
    if _WATER.match(label):
        return "O"
    head = re.match(r"[A-Za-z]+", label)
    if head is None:
        return None
    letters = head.group(0)
    first = letters[0].upper()
    if len(letters) >= 2 and letters[1].isupper() and first in _ONE_LETTER:
        return first
    if first == "O" and label[0] == "O" and len(letters) >= 2 and not _is_element(letters[:2]):
        return "O"
    return None
