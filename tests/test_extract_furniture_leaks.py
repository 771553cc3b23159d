"""Furniture that leaked into held-out outputs (issue 14, class 5), in several languages."""

from __future__ import annotations

import pytest

from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page
from wiredesk.extractors.core import author_name
from wiredesk.extractors.furniture import furniture_kind


@pytest.mark.parametrize(
    "line",
    [
        "Spotted an error? Send a correction.",
        "Found a typo? Let us know",
        "Fehler gefunden? Jetzt melden.",
        "Vous avez repéré une erreur ? Signalez-la",
        "¿Has visto un error? Avísanos",
        "Hai trovato un errore? Segnalalo",
        "Follow",
        "Follow Victor Davis Hanson on Twitter",
        "Follow @jdoe",
        "Folgen Sie uns auf Instagram",
        "Suivez-nous",
        "Partagez cet article",
        "Teilen Sie diesen Artikel",
        "Share this story",
        "Media captionWho is Julian Assange?",
        "Image copyright Getty Images",
        "Photo by Jane Doe on Unsplash",
        "Foto von Max Muster",
        "Bildunterschrift: Der Hafen am Abend",
        # Dutch, Portuguese, Russian, Swedish, Danish, Czech, Turkish
        "Fout gezien? Mail de redactie",
        "Heb je een fout gezien? Laat het ons weten.",
        "Encontrou algum erro? Avise-nos",
        "Нашли опечатку? Выделите её и нажмите Ctrl+Enter",
        "Если вы заметили ошибку, выделите её и нажмите Ctrl+Enter",
        "Har du hittat ett fel? Kontakta oss",
        "Fundet en fejl? Skriv til os",
        "Našli jste chybu? Napište nám",
        "Bir hata mı buldunuz? Bize bildirin",
        "Volg ons op Twitter",
        "Siga-nos no Instagram",
        "Följ oss på Facebook",
        "Sledujte nás na Facebooku",
        "Bizi Twitter’da takip edin",
        "Подписывайтесь на наш канал в Telegram",
        "Deel dit artikel",
        "Partilhe este artigo",
        "Dela artikeln",
        "Sdílejte článek",
        "Bu haberi paylaş",
        "Поделиться новостью",
    ],
)
def test_furniture_lines(line: str) -> None:
    assert furniture_kind(line) is not None


@pytest.mark.parametrize(
    "line",
    [
        "Follow the money",
        "Following the vote, the minister resigned on Monday evening.",
        "Share prices fell sharply on Monday after the announcement.",
        "Investigators found an error in the accounts of the harbour authority.",
        "The photo by the harbour shows the damaged pier.",
        "Следователи нашли ошибку в отчёте министерства, сообщил источник.",
        "Нашли ошибку в расчётах министерства, заявили в суде.",
        "Volg het geld, zei de rechercheur tegen de commissie.",
        "Siga a las autoridades sanitarias en sus recomendaciones.",
        "Dela av staden stängdes av under natten efter stormen.",
    ],
)
def test_story_lines_are_kept(line: str) -> None:
    assert furniture_kind(line) is None


def test_follow_button_is_not_part_of_the_author() -> None:
    assert author_name("Follow Jane Doe") == "Jane Doe"
    assert author_name("Jane Doe Follow; John Roe") == "Jane Doe; John Roe"
    assert author_name("Follow") is None
    assert author_name("Share") is None


def test_html_page_drops_correction_share_and_caption_lines() -> None:
    story = [
        "The harbour authority said on Tuesday that the old pier would close for repairs until the spring.",
        "Engineers found cracks in three of the supporting columns during a routine inspection last month.",
        "Fishing boats that use the pier will be moved to the northern quay, which was dredged in August.",
        "Local traders worry that the closure will keep summer visitors away from the market square.",
    ]
    furniture = ["Spotted an error? Send a correction.", "Partagez cet article", "Photo by Jane Doe on Unsplash"]
    paras = "".join(f"<p>{s}</p>" for s in story[:2]) + "".join(f"<p>{s}</p>" for s in furniture)
    paras += "".join(f"<p>{s}</p>" for s in story[2:])
    html = f'<html lang="en"><head><title>Pier</title></head><body><article>{paras}</article></body></html>'
    out = extract_page(RawPage(source="t", body=html.encode(), kind="html"))
    assert all(s in out.text for s in story)
    assert not any(f in out.text for f in furniture)
