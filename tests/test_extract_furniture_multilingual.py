"""News furniture in several languages that the line rules let through (issue 14, held-out
news sets): numbered ad slots and "skip the ad" buttons, publication stamps written with
dots (German, Nordic, Czech dates and times), bylines with a colon, paywall notices, staff
credits "from" an agency, follow pitches on any network. Lines written for this test."""

from __future__ import annotations

import pytest

from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page
from wiredesk.extractors.furniture import furniture_kind


@pytest.mark.parametrize(
    "line",
    [
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
        "von Erika Mustermann",
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
