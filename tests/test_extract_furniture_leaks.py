"""Furniture that leaked into held-out outputs (issue 14, class 5), in several languages; news
furniture of held-out news sets (ad slots, dotted-date stamps, colon bylines, paywall notices).
Lines written for these tests."""

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
        # numbered ad slots, "skip the ad", stamps with dotted dates, colon bylines, paywall
        # notices, "reporting from" credits and teasers (held-out news pages, issue 14)
        "Advertisement 3",
        "Anzeige 2",
        "Publicité 1",
        "This advertisement has not loaded yet, but the story goes on below.",
        "Passer la publicité",
        "Werbung überspringen",
        "Skip the ad",
        "Saltar publicidad",
        "Veröffentlicht am 3. März 2025 um 09:12",
        "Stand: 01.02.2025, 18:30 Uhr",
        "Zuletzt aktualisiert: 14.08.2024, 7.05 Uhr",
        "Uppdaterad 09.12 | Publicerad 08.01",
        "Publiceret 4. juni 2024 10.15",
        "Aktualizováno 12. 5. 2025 14.30",
        "Pubblicato il 2 maggio 2025 alle 11.20",
        "Von: Erika Mustermann, Max Muster",
        "By: Jane Doe",
        "Av Anna Andersson",
        "Additional reporting from Reuters",
        "With reports from local newspapers",
        "Follow Example Daily on Google News for the latest updates from our newsroom.",
        "This content is reserved for subscribers",
        "Dieser Artikel ist nur für Abonnenten",
        "Cet article est réservé aux abonnés",
        "Support local journalism.",
        "Unlimited online access to all our titles.",
        "For more stories like this, visit our home page.",
        "Got a story to share? Email the newsroom",
        "Please read our rules before commenting",
        "MIRA: Así fue la tormenta en la capital",
        "Vea: los goles del partido",
        "Sign up to get the week's best stories, picked by our editors.",
        "Auch auf beispiel.de",
        "Lust auf mehr? Hol dir unsere besten Geschichten jede Woche in deinen Posteingang.",
        "Materiał chroniony prawem autorskim.",
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
        "The advertisement ran for three weeks before the regulator stepped in.",
        "Stand-up comedians filled the hall on 3. März, the organisers said.",
        "Veröffentlicht wurde der Bericht am Montag. Er umfasst 300 Seiten.",
        "Readers were asked to support local journalism through small monthly donations.",
        "Von der Leyen sprach am Dienstag in Brüssel über die Pläne der Kommission.",
        "Follow-up talks are planned for the 12th of May in Geneva.",
        "Reporting from the border, she described long queues of lorries waiting overnight.",
        "The ad agency said the campaign would continue until the end of the month.",
        "Mira Sorvino won an Oscar in 1996 for her role in the film.",
        "Auch auf dem Land steigen die Mieten seit Jahren deutlich an.",
        "Signing up to the scheme gets farmers a grant of up to 5,000 euros.",
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


def test_german_page_drops_stamp_byline_and_ad_slots() -> None:
    story = [
        "Die Stadtverwaltung hat am Dienstag angekündigt, die alte Brücke über den Fluss im Frühjahr zu sanieren.",
        "Bei einer Prüfung im vergangenen Monat hatten Ingenieure Risse in drei der Pfeiler entdeckt.",
        "Der Verkehr soll während der Arbeiten über die nördliche Umgehungsstraße geleitet werden.",
        "Händler in der Altstadt befürchten, dass die Sperrung im Sommer weniger Besucher bringt.",
    ]
    furniture = ["Stand: 22.04.2025, 06:00 Uhr", "Von: Erika Mustermann", "Anzeige 2", "Werbung überspringen"]
    paras = "".join(f"<p>{s}</p>" for s in furniture[:2] + story[:2] + furniture[2:] + story[2:])
    html = f'<html lang="de"><head><title>Brücke</title></head><body><article>{paras}</article></body></html>'
    out = extract_page(RawPage(source="t", body=html.encode(), kind="html"))
    assert all(s in out.text for s in story)
    assert not any(f in out.text for f in furniture)
