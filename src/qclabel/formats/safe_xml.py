"""XML from other tools, read without trusting it.

Annotation XML never needs a DTD, so one is refused outright: that closes entity
expansion ("billion laughs"), external entities and external DTD fetches in one rule,
which is what defusedxml enforces, without the dependency. The tree is built by expat
driving ElementTree's TreeBuilder, so no DTD handling of ElementTree's own parser runs.
Every problem is one FormatError line naming the file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.parsers import expat

from ..errors import FormatError


class _Refused(Exception):
    pass


def _refuse(what: str) -> Callable[..., Any]:
    def handler(*_: Any) -> Any:
        raise _Refused(what)

    return handler


# A CVAT export of 100k images with masks stays well below this; more is not a label file.
MAX_XML_BYTES = 2 << 30


def parse_xml(path: Path, limit: int = MAX_XML_BYTES) -> ET.Element:
    """The root element of the XML file at `path`; DTDs and entities are refused, and
    so is a file over `limit` bytes (it is parsed as a stream, never read whole)."""
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if size > limit:
        raise FormatError(f"{path}: larger than {limit >> 20} MB: not an annotation file")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse("a DOCTYPE declaration")
    parser.EntityDeclHandler = _refuse("an entity declaration")
    parser.UnparsedEntityDeclHandler = _refuse("an entity declaration")
    parser.ExternalEntityRefHandler = _refuse("an external entity")
    parser.StartElementHandler = lambda tag, attrs: builder.start(tag, attrs)
    parser.EndElementHandler = lambda tag: builder.end(tag)
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        with open(path, "rb") as f:
            parser.ParseFile(f)
        return builder.close()
    except _Refused as exc:
        raise FormatError(
            f"{path}: XML with {exc} is refused (annotation files need none)"
        ) from None
    except expat.ExpatError as exc:
        raise FormatError(f"{path}: not well-formed XML: {exc}") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except AssertionError:  # TreeBuilder: no root element
        raise FormatError(f"{path}: not XML: no root element") from None


# What XML 1.0 cannot hold at all, not even as a character reference (a file holding
# one is not well-formed); a file name cannot hold a line break either (VOC's image
# sets list one stem a line).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NOT_NAME = re.compile("[^\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str, what: str, bad: re.Pattern[str] = NOT_XML) -> str:
    """`text`, or FormatError naming the first character an XML export cannot hold
    (written, it would leave a file no parser reads)."""
    found = bad.search(text)
    if found is not None:
        raise FormatError(
            f"{what}: XML cannot hold the character {found.group()!r} "
            "(relabel or rename, or export another format)"
        )
    return text


def xml_values(el: ET.Element) -> None:
    """`xml_text` of every text and attribute value of `el` and the elements in it."""
    for node in el.iter():
        for value in (node.text or "", *node.attrib.values()):
            if not value.isprintable():  # most values: one C call
                xml_text(value, f"{node.tag} {value!r}")
