"""decode_page and the input errors of extract_page: real byte sequences, real encodings."""

from __future__ import annotations

import codecs
import gzip
import zlib

import pytest

from wiredesk.core.errors import InputError
from wiredesk.core.records import RawPage
from wiredesk.extractors import ExtractSettings, decode_page, extract_page

GERMAN = "Die Bürger wählten am Sonntag – trotz „Regen“ – einen neuen Stadtrat für Köln."
FRENCH = "L’été dernier, les élèves ont visité le musée d’Orsay à Paris avec leur école."


def _html(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


def test_windows_1252_without_any_declaration() -> None:
    raw = ("Le café “crème” coûte 3 € – déjà cher. " * 5).encode("windows-1252")
    assert decode_page(raw, kind="text") == ("Le café “crème” coûte 3 € – déjà cher. " * 5)


def test_meta_charset_only() -> None:
    html = _html(GERMAN, '<meta charset="windows-1252">')
    assert GERMAN in decode_page(html.encode("windows-1252"), kind="html")


def test_http_equiv_charset() -> None:
    html = _html(FRENCH, '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">')
    # iso-8859-1 is read as windows-1252, as browsers do: the curly apostrophe survives.
    assert FRENCH in decode_page(html.encode("windows-1252"), kind="html")


def test_shift_jis() -> None:
    text = "東京都は月曜日、新しい防災計画を発表した。住民の安全を守るための対策が盛り込まれている。"
    raw = _html(text, '<meta charset="Shift_JIS">').encode("shift_jis")
    assert text in decode_page(raw, kind="html")
    # and detected with no declaration at all
    assert decode_page((text * 3).encode("shift_jis"), kind="text") == text * 3


def test_header_charset_wins_over_meta() -> None:
    raw = _html(GERMAN, '<meta charset="utf-8">').encode("windows-1252")
    assert GERMAN in decode_page(raw, kind="html", header_encoding="windows-1252")


def test_wrong_single_byte_header_on_utf8_bytes() -> None:
    # servers often default to latin-1 while the page is UTF-8
    raw = _html(GERMAN).encode("utf-8")
    assert GERMAN in decode_page(raw, kind="html", header_encoding="ISO-8859-1")


def test_unknown_header_charset_is_ignored() -> None:
    raw = _html(GERMAN).encode("utf-8")
    assert GERMAN in decode_page(raw, kind="html", header_encoding="no-such-charset")


@pytest.mark.parametrize(
    "bom,codec", [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_bom(bom: bytes, codec: str) -> None:
    assert decode_page(bom + FRENCH.encode(codec), kind="text") == FRENCH


@pytest.mark.parametrize("body", [b"", b"   \n\t  \r\n", codecs.BOM_UTF8 + b"  \n"])
def test_empty(body: bytes) -> None:
    with pytest.raises(InputError) as err:
        decode_page(body, kind="text")
    assert err.value.reason == "empty"


@pytest.mark.parametrize(
    "body",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        gzip.compress(b"<html>compressed but not declared</html>"),
        b"text with a NUL\x00 in the middle",
        zlib.compress(b"x" * 1000) * 3,
    ],
)
def test_binary(body: bytes) -> None:
    with pytest.raises(InputError) as err:
        decode_page(body, kind="html")
    assert err.value.reason == "binary"


def test_bytes_after_bom_that_do_not_decode() -> None:
    with pytest.raises(InputError) as err:
        decode_page(codecs.BOM_UTF8 + b"ok \xff\xfe\xfd broken", kind="text")
    assert err.value.reason == "decode"


def test_extract_page_oversized_and_reasons() -> None:
    page = RawPage(source="t", body=_html(GERMAN * 50).encode(), kind="html")
    with pytest.raises(InputError) as err:
        extract_page(page, settings=ExtractSettings(max_bytes=1000))
    assert err.value.reason == "oversized"
    with pytest.raises(InputError) as err:
        extract_page(RawPage(source="t", body=b"", kind="text"))
    assert err.value.reason == "empty"


def test_extract_page_uses_the_page_header_encoding() -> None:
    paragraphs = "".join(f"<p>{GERMAN} Absatz {i} mit weiteren Wörtern über die Wahl.</p>" for i in range(6))
    html = f"<html lang='de'><body><article>{paragraphs}</article></body></html>"
    page = RawPage(source="t", body=html.encode("windows-1252"), kind="html", encoding="cp1252")
    out = extract_page(page)
    assert "Bürger wählten" in out.text and "„Regen“" in out.text
    assert out.language == "de"


@pytest.mark.parametrize(
    "text,codec",
    [
        ("Zażółć gęślą jaźń, powiedział minister w środę. Rząd przyjął ustawę o podatkach.", "cp1250"),
        ("Привет, как дела? Сегодня хорошая погода в Москве, сказал министр.", "cp1251"),
        ("Η κυβέρνηση ανακοίνωσε νέα μέτρα για την οικονομία την Τετάρτη.", "cp1253"),
    ],
)
def test_other_legacy_code_pages_are_not_forced_into_windows_1252(text: str, codec: str) -> None:
    body = (text + " ") * 4
    assert decode_page(body.encode(codec), kind="text") == body


def test_bomless_utf16_with_a_header_charset() -> None:
    body = FRENCH.encode("utf-16-le")
    assert decode_page(body, kind="text", header_encoding="UTF-16LE") == FRENCH
    with pytest.raises(InputError) as err:  # without the header, NUL bytes mean binary
        decode_page(body, kind="text")
    assert err.value.reason == "binary"


# --- one invalid byte in a page declared UTF-8 (issue 14, class 3) -------------------

DANISH = "The ferry to Ærøskøbing leaves from Svendborg; the crossing takes about 75 minutes."


def test_declared_utf8_with_one_invalid_byte_is_read_leniently_with_a_count() -> None:
    from wiredesk.extractors.decoding import decode_bytes

    raw = _html(DANISH, '<meta charset="utf-8">').encode("utf-8").replace(b"crossing", b"cross\xe9ing")
    found = decode_bytes(raw, kind="html")
    assert found.encoding == "utf-8" and found.replaced == 1
    assert "Ærøskøbing" in found.text and "cross\ufffding" in found.text
    # the header alone vouches too, and the result never comes from charset guessing
    raw_no_meta = _html(DANISH).encode("utf-8").replace(b"crossing", b"cross\xe9ing")
    assert "Ærøskøbing" in decode_page(raw_no_meta, kind="html", header_encoding="UTF-8")


def test_declared_utf8_page_with_invalid_bytes_extracts() -> None:
    story = " ".join([DANISH] * 6)
    raw = f"<html><head><meta charset='utf-8'></head><body><article><p>{story}</p></article></body></html>"
    body = raw.encode("utf-8").replace(b"Svendborg", b"Svend\xffborg", 1)
    out = extract_page(RawPage(source="t", body=body, kind="html"))
    assert "Ærøskøbing" in out.text and "Ă" not in out.text


def test_undeclared_utf8_with_a_stray_byte_is_not_a_code_page() -> None:
    text = ("Ærøskøbing, Marstal og Søby: færgerne sejler hver dag. " * 4).encode("utf-8") + b"\x81 end."
    assert decode_page(text, kind="text").startswith("Ærøskøbing, Marstal")


def test_utf8_label_on_a_legacy_page_falls_back_to_windows_1252() -> None:
    # no valid multi-byte letter at all and several invalid bytes: the label is wrong
    raw = _html(FRENCH, '<meta charset="utf-8">').encode("windows-1252")
    assert FRENCH in decode_page(raw, kind="html")


def test_plausible_western_letter_count_in_c() -> None:
    """_plausible_western counts [A-Za-z] as the ASCII bytes less those letters: the same
    verdict as counting the regex's matches, on random windows-1252-like texts."""
    import random
    import re

    from wiredesk.extractors import decoding

    def by_regex(text: str) -> bool:
        sample = text[:100_000]
        letters = len(re.findall("[A-Za-z]", sample))
        non_ascii = 0
        for m in re.finditer("[^\x00-\x7f]", sample):
            ch, i = m.group(), m.start()
            if ch.isalpha():
                letters += 1
                non_ascii += 1
            elif ch in decoding._WESTERN_PUNCT and ch not in "“”‘’„‚–—…«»·\xa0":
                prev = text[i - 1] if i else ""
                nxt = text[i + 1] if i + 1 < len(text) else ""
                if prev.isalpha() and nxt.isalpha():
                    return False
            elif ch not in decoding._WESTERN_PUNCT:
                return False
        return letters > 0 and non_ascii <= 0.3 * letters

    rng = random.Random(1)
    alphabet = "abcXYZ ,.é€Ïð¿ó³æ\u201c\xa0Zaç1\n"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        assert decoding._plausible_western(text) == by_regex(text), text
