"""The line rules and both paths on small hand-made pages, in several languages."""

from __future__ import annotations

import pytest

from wiredesk.core.errors import ExtractionError
from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page
from wiredesk.extractors.furniture import credit_line, furniture_kind


def text_page(body: str, url: str | None = None) -> RawPage:
    return RawPage(source="t", body=body.encode("utf-8"), kind="text", url=url)


def html_page(body: str, url: str | None = "https://news.example.com/a/1") -> RawPage:
    return RawPage(source="t", body=body.encode("utf-8"), kind="html", url=url)


@pytest.mark.parametrize(
    "line",
    [
        "- Advertisement -",
        "ANZEIGE",
        "Publicité",
        "Reklama",
        "Skip to main content",
        "Zum Inhalt springen",
        "Aller au contenu principal",
        "Related Stories",
        "Mehr zum Thema",
        "À lire aussi",
        "Noticias relacionadas",
        "Czytaj także",
        "Share on Facebook",
        "Facebook Twitter WhatsApp E-Mail",
        "Teilen",
        "Compartir",
        "Comments are closed.",
        "Sign up for our daily newsletter",
        "Jetzt Newsletter abonnieren",
        "Abonnez-vous à notre newsletter",
        "© 2024 Example Media GmbH. Alle Rechte vorbehalten. Nachdruck nur mit Genehmigung des Verlags.",
        "By Jane Doe | Reuters",
        "Von Anna Müller",
        "November 19, 2019 at 6:34 am",
        "19.11.2019, 14:05 Uhr",
        "Click to share on Twitter (Opens in new window)",
        "3 min read",
    ],
)
def test_furniture_lines(line: str) -> None:
    assert furniture_kind(line) is not None


@pytest.mark.parametrize(
    "line",
    [
        "By the end of the day, the index had fallen by two percent.",
        "The advertisement campaign ran for six weeks before regulators intervened.",
        "Sources say the deal is close to being signed.",
        "Die Bundesregierung will den Newsletter-Versand der Behörden neu regeln, sagte der Minister.",
        "The billionaire pledged to donate half of his fortune to the foundation.",
        "Share prices fell sharply on Monday after the announcement.",
        "In May 2020 the company said it would close the plant.",
        "Le gouvernement a présenté mercredi son projet de loi sur les retraites.",
    ],
)
def test_sentences_are_not_furniture(line: str) -> None:
    assert furniture_kind(line) is None
    assert credit_line(line) is None


@pytest.mark.parametrize(
    "line,name",
    [
        ("Read the original article on Business Insider", "Business Insider"),
        ("This article originally appeared on Example.com.", "Example.com"),
        ("The post Ten things to know appeared first on The Daily Planet.", "The Daily Planet"),
        ("Source link", None),
        ("Originally published at example.org", "example.org"),
        ("Der Artikel erschien zuerst bei Tagesspiegel.", "Tagesspiegel"),
        ("Cet article a été initialement publié sur Le Monde.", "Le Monde"),
    ],
)
def test_credit_lines(line: str, name: str | None) -> None:
    credit = credit_line(line)
    assert credit is not None and credit.name == name


GERMAN_TEXT_PAGE = """Zum Inhalt springen
Startseite
Politik
Wirtschaft
Sport
Kultur
Suche

Stadtrat beschließt neues Verkehrskonzept

Von Anna Müller

Der Kölner Stadtrat hat am Donnerstagabend mit großer Mehrheit ein neues Verkehrskonzept für die Innenstadt beschlossen, das ab dem kommenden Frühjahr schrittweise umgesetzt werden soll.

ANZEIGE

Nach dem Plan sollen mehrere Straßen rund um den Dom für den Durchgangsverkehr gesperrt werden. Die Verwaltung rechnet mit einer deutlichen Entlastung der Anwohner und mit weniger Lärm in den Abendstunden.

Kritik kam von den Einzelhändlern, die um ihre Kundschaft fürchten. Der Verband kündigte an, die Umsetzung genau zu beobachten und notfalls rechtliche Schritte zu prüfen.

Teilen
Facebook Twitter WhatsApp E-Mail

Mehr zum Thema
Neue Radwege am Rhein
Baustelle an der Zoobrücke

Newsletter abonnieren
© 2024 Beispiel Verlag GmbH
Impressum
Datenschutz
"""


def test_german_text_page() -> None:
    out = extract_page(text_page(GERMAN_TEXT_PAGE))
    lines = out.text.split("\n")
    assert lines[0].startswith("Der Kölner Stadtrat hat am Donnerstagabend")
    assert lines[-1].startswith("Kritik kam von den Einzelhändlern")
    assert len(lines) == 3  # ANZEIGE, menus, share bar, rail, footer all gone
    assert out.language == "de" and out.method == "text-lines"
    assert not out.names_original


FRENCH_COMPACT_PAGE = """Aller au contenu principal
Accueil
International
Économie
Le gouvernement présente sa réforme des retraites
Le Premier ministre a présenté mercredi le projet de loi sur les retraites, qui prévoit un relèvement progressif de l’âge légal de départ.
Publicité
Les syndicats ont immédiatement appelé à une journée de mobilisation nationale, estimant que la réforme pénaliserait les carrières longues.
Selon le ministère du Travail, le texte sera examiné par l’Assemblée nationale au début du mois prochain.
Cet article a été initialement publié sur Le Quotidien.
Partager
À lire aussi
Les marchés européens reculent
Mentions légales
"""


def test_french_compact_page_with_credit_line() -> None:
    out = extract_page(text_page(FRENCH_COMPACT_PAGE, url="https://copie.example.fr/retraites"))
    lines = out.text.split("\n")
    assert len(lines) == 3
    assert lines[0].startswith("Le Premier ministre") and lines[-1].startswith("Selon le ministère")
    assert "Publicité" not in out.text and "initialement publié" not in out.text
    assert out.names_original
    assert out.language == "fr"


def test_menu_only_page_has_no_content() -> None:
    menu = "\n".join(["Home", "News", "Sport", "Weather", "Contact us", "Privacy policy"] * 3)
    with pytest.raises(ExtractionError) as err:
        extract_page(text_page(menu))
    assert err.value.reason == "no-content"


def _article_html(paragraphs: list[str], *, head: str = "", extra: str = "", lang: str = "en") -> str:
    ps = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html lang='{lang}'><head><title>Test headline | Example News</title>{head}</head><body>"
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/world'>World</a></li></ul></nav>"
        f"<article><h1>Test headline</h1>{ps}{extra}</article>"
        "<footer><p>© 2024 Example News. All rights reserved.</p></footer></body></html>"
    )


SPANISH = [
    "El Gobierno aprobó el martes un plan para reducir el consumo de agua en las grandes ciudades durante el verano.",
    "Según el ministerio, las restricciones afectarán sobre todo al riego de parques y jardines públicos.",
    "Los ayuntamientos tendrán dos semanas para presentar sus propios planes de ahorro a las autoridades regionales.",
    "Las asociaciones de vecinos pidieron más información sobre las sanciones previstas para quienes incumplan las normas.",
]


def test_html_metadata_and_credit_line() -> None:
    head = (
        "<meta property='article:published_time' content='2024-03-05T08:30:00+01:00'>"
        "<meta name='author' content='Lucía Gómez'>"
        "<link rel='canonical' href='https://news.example.com/a/1'>"
    )
    extra = (
        "<p>Compartir</p><p>Read the original article on "
        "<a href='https://origin.example.org/story'>Origin Daily</a></p>"
    )
    out = extract_page(html_page(_article_html(SPANISH, head=head, extra=extra, lang="es")))
    lines = out.text.split("\n")
    assert lines == SPANISH  # one paragraph per line, furniture and credit line gone
    assert out.language == "es"
    assert out.published is not None and out.published.startswith("2024-03-05")
    assert out.author == "Lucía Gómez"
    assert out.canonical_url == "https://news.example.com/a/1"
    assert out.names_original and out.original_url == "https://origin.example.org/story"


def test_html_canonical_on_another_host_names_the_original() -> None:
    head = "<link rel='canonical' href='https://origin.example.org/story'>"
    out = extract_page(html_page(_article_html(SPANISH, head=head, lang="es")))
    assert out.names_original and out.original_url == "https://origin.example.org/story"
    # same host (www./m. variants included) is not syndication
    head = "<meta property='og:url' content='https://m.news.example.com/a/1'>"
    out = extract_page(html_page(_article_html(SPANISH, head=head, lang="es")))
    assert not out.names_original and out.original_url is None


def test_html_without_article_text() -> None:
    html = "<html><body><nav><a href='/'>Home</a> <a href='/b'>Blog</a></nav></body></html>"
    with pytest.raises(ExtractionError) as err:
        extract_page(html_page(html))
    assert err.value.reason == "no-content"


def test_a_source_line_naming_the_site_itself_is_not_syndication() -> None:
    extra = "<p>SOURCE: Example News</p>"
    out = extract_page(html_page(_article_html(SPANISH, extra=extra, lang="es"), url="https://www.examplenews.com/a/1"))
    assert not out.names_original and "SOURCE" not in out.text
    out = extract_page(
        html_page(
            _article_html(SPANISH, extra="<p>Source: Reuters</p>", lang="es"), url="https://www.examplenews.com/a/1"
        )
    )
    assert out.names_original


def test_title_is_the_visible_headline_without_site_suffix() -> None:
    from lxml.html import fromstring

    from wiredesk.extractors.metadata import best_title

    tree = fromstring("<html><body><h1>Stadtrat beschließt neues Verkehrskonzept</h1></body></html>")
    assert (
        best_title(tree, "Stadtrat beschließt Verkehrskonzept | Kölner Zeitung")
        == "Stadtrat beschließt neues Verkehrskonzept"
    )
    no_h1 = fromstring("<html><body><p>x</p></body></html>")
    assert (
        best_title(no_h1, "Stadtrat beschließt neues Verkehrskonzept - Kölner Zeitung")
        == "Stadtrat beschließt neues Verkehrskonzept"
    )
    # an unrelated <h1> (the site logo) does not replace the title
    logo = fromstring("<html><body><h1>Kölner Zeitung</h1></body></html>")
    assert best_title(logo, "Neue Radwege am Rhein") == "Neue Radwege am Rhein"


ENGLISH_PAGE_WITH_RAILS = """Skip to main content
Home
World
Business
Tech
Sign in

Band announces anniversary tour

By Jane Doe | November 19, 2019

The band will celebrate fifty years on the road with a thirty-date tour of North America next summer, its founders said on Monday.

- Advertisement -

The tour opens in June in Florida and closes in September in California, where the group played its first concerts in the early seventies.

Tickets go on sale on December 6, and fan club members will get access to a presale two days earlier, the promoter said in a statement.

The tour dates are:
June 9 -- West Palm Beach, FL
June 10 -- Tampa, FL
June 14 -- Atlanta, GA
June 17 -- Nashville, TN

Share this article
Facebook Twitter Email

Related Stories
Singer recalls the night the band almost split up in a hotel lobby
Guitarist opens a museum of vintage amplifiers in his home town
Drummer's memoir becomes an unlikely bestseller in Japan
Five albums that defined the sound of the decade, ranked by critics

3 Comments
rockfan77 says:
November 19, 2019 at 6:34 am
Saw them in 1975 and it was the best night of my life, I will be there again for sure.
mike says:
November 19, 2019 at 7:02 am
Tickets will be gone in minutes as usual, the presale is the only chance to get a good seat.

© 2019 Example Media. All rights reserved.
Privacy Policy
"""


def test_english_page_with_rails_list_and_comments() -> None:
    out = extract_page(text_page(ENGLISH_PAGE_WITH_RAILS, url="https://example-music.com/tour"))
    assert out.text.split("\n") == [
        "The band will celebrate fifty years on the road with a thirty-date tour of North America "
        "next summer, its founders said on Monday.",
        "The tour opens in June in Florida and closes in September in California, where the group "
        "played its first concerts in the early seventies.",
        "Tickets go on sale on December 6, and fan club members will get access to a presale two "
        "days earlier, the promoter said in a statement.",
        "The tour dates are:",
        "June 9 -- West Palm Beach, FL",
        "June 10 -- Tampa, FL",
        "June 14 -- Atlanta, GA",
        "June 17 -- Nashville, TN",
    ]
    assert out.language == "en" and not out.names_original


def test_html_to_lines_one_block_per_line() -> None:
    from lxml.html import fromstring

    from wiredesk.extractors.html import html_to_lines

    tree = fromstring(
        "<div><p>Hello <b>big</b> world<script>x=1</script> again</p>"
        "<ul><li>one</li><li>two</li></ul>after<!-- note --> text</div>"
    )
    assert html_to_lines(tree) == "Hello big world again\none\ntwo\nafter text"
