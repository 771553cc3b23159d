"""Shared line rules: what site furniture looks like, in several languages.

Used by both paths: the plain-text line cleaner scores lines with them, and the text that
comes out of the HTML path is filtered with them. Every rule is about the *shape* or the
*vocabulary* of furniture (calls to action, share bars, ad markers, navigation words,
credit lines), never about a particular site's strings. Rules only fire on short lines
(furniture is short; an article sentence that happens to contain "subscribe" is long),
except the credit-line rules, which are anchored at the start of the line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple


def _mark_ranges() -> str:
    """A character class body of the combining marks (Unicode M*) of the BMP: re's \\w
    leaves them out, which would cut Devanagari, Bengali, Thai or Arabic words at every
    vowel sign (हिंदी -> ह, ह, द)."""
    out, start, prev = [], None, None
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code))[0] == "M":
            if start is None:
                start = code
            prev = code
        elif start is not None:
            out.append(f"\\u{start:04x}-\\u{prev:04x}" if prev != start else f"\\u{start:04x}")
            start = None
    return "".join(out)


# A word: letters and digits of any script with their combining marks.
WORD = re.compile(f"[\\w{_mark_ranges()}]+")
_WORD = WORD


def words(line: str) -> list[str]:
    return _WORD.findall(line)


# core() strips these from the ends of a line (plus whitespace: re's \s is str.isspace,
# and U+3000 is the last whitespace character). str.lstrip/rstrip do what a regex
# substitution did, several times faster.
_SPACES = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
_LEAD = _SPACES + "-–—•·*|>»«›‹▸►▶◆■□●○#:"
_TAIL = _SPACES + "-–—•·*|<»«›‹:"


def core(line: str) -> str:
    """The line without the bullets, dashes and separators around it."""
    return line.lstrip(_LEAD).rstrip(_TAIL)


class LineFacts(NamedTuple):
    """What the rules read from a line. clean_lines asks several rules about every line;
    reading the line once (``line_facts``) and passing this along saves redoing it."""

    core: str  # core(line)
    tokens: list[str]  # words(line), the same as words(core): core strips no word characters
    lower: str | None  # core.lower() when the lower-case pre-checks are exact (see _Folded)


def line_facts(line: str) -> LineFacts:
    """Read a line for the rules (see LineFacts)."""
    c = core(line)
    lower = c.lower() if c.isascii() or not _UNSAFE_CASE.search(c) else None
    return LineFacts(core=c, tokens=words(line), lower=lower)


# --- fast pre-checks for the case-insensitive rules ----------------------------------------
# Python's re cannot skip ahead in a case-insensitive alternation: it tries every
# alternative at every position of the line, which made these rules most of the line
# cleaner's time. The same pattern compiled case-sensitively and run on the lower-cased
# line is 2-5x faster, and it matches whenever the original does: the patterns' letters
# are lower case, and their case-sensitive parts (?-i:...) become case-insensitive, so they
# accept the lower-cased letters too. It only filters: a line it lets through is still
# judged by the original pattern, so verdicts do not change. The argument needs str.lower()
# and re's case folding to agree on every character of the line; they do except for the
# characters below (re equates ı/ſ and old Cyrillic letter forms with i/s/в/д/о/с/т/ъ/ѣ,
# İ lower-cases to two characters, Σ's lower case depends on its neighbours). Lines with
# one of them skip the pre-check (tests/test_extract_line_shortcuts.py checks the set).
# The Greek vocabulary adds the Greek letters re also equates with their symbol forms
# (κ/ϰ, β/ϐ, θ/ϑ, φ/ϕ, π/ϖ, ρ/ϱ, ε/ϵ, ι/ͅ/ι, μ/µ) and σ/ς.
_UNSAFE_CASE = re.compile("[İıſΣσςµ\u0345\u03d0\u03d1\u03d5\u03d6\u03f0\u03f1\u03f5\u1fbe\u1c80-\u1c88]")


class _Folded:
    """A case-insensitive pattern plus its pre-check on the lower-cased line."""

    __slots__ = ("rx", "pre", "hints")

    def __init__(self, rx: re.Pattern[str], hints: tuple[str, ...] = ()) -> None:
        self.rx = rx
        self.pre = re.compile(rx.pattern.replace("(?-i:", "(?i:"), rx.flags & ~re.IGNORECASE)
        # Substrings one of which every match of ``pre`` contains (tests check this on the
        # parsed pattern): a few str ``in`` tests turn most lines away before ``pre``,
        # which tries every alternative at every position of an unanchored pattern.
        self.hints = hints

    def search(self, text: str, lower: str | None) -> re.Match[str] | None:
        if lower is not None and (
            (self.hints and not any(h in lower for h in self.hints)) or not self.pre.search(lower)
        ):
            return None
        return self.rx.search(text)

    def match(self, text: str, lower: str | None) -> re.Match[str] | None:
        if lower is not None and not self.pre.match(lower):
            return None
        return self.rx.match(text)


# --- lines that are furniture whatever their context -------------------------------------
# Each alternative must match the WHOLE line (after stripping bullets/punctuation around
# it), so "Advertisement" is furniture but "The advertisement campaign ran for weeks." is not.
_WHOLE_LINE = [
    # ad markers
    r"((advertisement|advertising|anzeige|werbung|reklama|publicit[ée]|publicidad|pubblicit[àa]|advertentie|"
    r"reklam|annons|annonce|mainos|реклама)( \d{1,2})?|sponsored( content| links?)?|ad|ads|"
    r"広告|광고|广告|廣告|إعلان|اعلان|اشتہار|विज्ञापन|"
    r"διαφήμιση|פרסומת|โฆษณา|promoted( stories| content)?|"
    # a lazy-loaded ad slot's notice and the "skip the ad" button, in several languages
    r"(this )?(advertisement|ad) has not loaded yet.{0,60}|"
    r"(skip|close) (the |this )?(ad|advert|advertisement)|passer la publicit[ée]|werbung (überspringen|schließen)|"
    r"(saltar|omitir|cerrar) (la )?publicidad|salta (la )?pubblicit[àa]|pular (o )?an[úu]ncio|"
    r"reklam\w? (geç|atla)|пропустить рекламу|"
    r"paid (post|content|partner content)|partner content|story continues below( advertisement)?|"
    r"article continues below( advertisement)?|continue reading below|scroll to continue.*)",
    # skip links / navigation words
    r"(skip to (main )?content|skip to navigation|skip navigation|jump to (main )?content|"
    r"zum inhalt( springen)?|direkt zum inhalt|aller au contenu( principal)?|ir al contenido|"
    r"przejdź do (treści|zawartości)|ہوم|صفحہ اول|الرئيسية|الصفحة الرئيسية|होम|मुख्य पृष्ठ|главная|首页|首頁|ホーム|"
    r"αρχική|דף הבית|ראשי|หน้าแรก|홈|menu|main menu|navigation|search|suche|rechercher|buscar|"
    r"szukaj|home|startseite|accueil|inicio|back to top|nach oben|retour en haut|top|"
    r"previous( article| post| story)?|next( article| post| story)?|older posts?|newer posts?|"
    r"vorheriger artikel|nächster artikel|article précédent|article suivant|load more|show more|"
    r"mehr laden|view all|see all|alle anzeigen|voir tout|ver todo|zobacz wszystkie|more|mehr|plus)",
    # section headers of rails around an article
    r"((most )?(read|popular|viewed|shared|commented)( (now|today|stories|articles|posts|news))?( in .{1,30})?|"
    r"(other|more|latest|partner|top|related|recent|popular|breaking) (news|headlines|stories)( in this section| from .{1,30})?|"
    r"news from (our )?partners|from (our|the) partners|around the web|sponsored stories|"
    r"関連記事|関連ニュース|おすすめ記事|人気記事|スポンサードリンク|スポンサーリンク|相关文章|相关阅读|推荐阅读|"
    r"相關文章|관련\s?기사|많이 본 뉴스|인기 기사|"
    r"weitere nachrichten|andere nachrichten|autres actualités|otras noticias|altre notizie|inne wiadomości|"
    r"trending( now| stories)?|top stories|latest( news| stories| articles| posts)?|"
    r"recent (articles|posts|stories|news)|related( (articles?|stories|posts|content|news|links|topics|coverage|reading))?|"
    r"more (?-i:[A-Z][\w'’&.-]*( [A-Z][\w'’&.-]*){0,3})|(you )?(may|might) (also )?like|recommended( for you| stories| articles)?|more (from|on|in|stories|news)( .{0,40})?|"
    r"more (articles|stories) like this|editor'?s picks|what to read next|up next|watch next|"
    r"mehr zum thema|das könnte sie auch interessieren|weitere artikel|ähnliche artikel|meistgelesen|"
    r"auch interessant|verwandte artikel|à lire aussi|lire aussi|sur le même sujet|articles similaires|"
    r"dans la même rubrique|les plus lus|te puede interesar|noticias relacionadas|lo más leído|"
    r"potrebbe interessarti|articoli correlati|czytaj (też|także|również)|zobacz (też|także|również)|"
    r"najczęściej czytane|podobne artykuły|читайте также|похожие новости|смотрите также|другие новости|"
    r"новости по теме|самое читаемое|ये भी पढ़ें|यह भी पढ़ें|संबंधित ख़बरें|संबंधित खबरें|ज़रूर पढ़ें|"
    r"یہ بھی پڑھیں|مزید پڑھیں|متعلقہ خبریں|اقرأ أيضا|اقرأ أيضاً|اقرأ ايضا|أخبار ذات صلة|مواضيع ذات صلة|"
    r"الأكثر قراءة|קראו עוד|קרא עוד|עוד באתר|כתבות נוספות|הכי נקראים|διαβάστε επίσης|διαβάστε ακόμα|"
    r"σχετικά άρθρα|δημοφιλή|ข่าวที่เกี่ยวข้อง|ข่าวแนะนำ|อ่านเพิ่มเติม|ข่าวยอดนิยม|相关新闻|相關新聞|热门新闻|"
    r"热点新闻|延伸阅读|延伸閱讀|更多新闻|猜你喜欢|あわせて読みたい|こちらもおすすめ|"
    r"комментарии|टिप्पणियाँ|टिप्पणियां|تبصرے|التعليقات|تعليقات|תגובות|σχόλια|ความคิดเห็น|评论|評論|"
    r"コメント|댓글|leia também|"
    r"gerelateerde artikelen|lees ook|tags?|topics?|categories|category|filed under|schlagwörter|"
    r"themen|mots-clés|etiquetas|tagi|タグ|标签|태그|archives?|comments?|kommentare|commentaires|comentarios|"
    r"komentarze|leave a (comment|reply)|post a comment|write a comment|add a comment|"
    r"\d+ (comments?|kommentare|commentaires|comentarios|komentarzy?|responses?|replies)|"
    r"comments are closed\.?|kommentare sind geschlossen|les commentaires sont fermés|"
    r"(show|hide|view|load) comments?|join the (conversation|discussion)|keine kommentare|"
    r"no comments( yet)?|kommentare insgesamt|inhaltsverzeichnis|table of contents|contents|sommaire|"
    r"índice|spis treści|aucun commentaire|sin comentarios|brak komentarzy|"
    r"(previous|next|vorschau auf den nächsten|zum nächsten|zum vorherigen) (article|post|story|artikel|beitrag)|"
    r"beiträge aus dem forum|alle angaben ohne gewähr\.?|bild anzeigen|bild vergrößern|"
    r"(notas|noticias) relacionadas|lesen sie auch( die folgenden beiträge)?|"
    r"(photo|image|bild|foto|titelbild|credit|quelle|fotos?|image source|bildquelle)\s*:?)",
    # share bars
    r"((share|teilen|partager|compartir|condividi|udostępnij|delen|compartilhar|поделиться|شیئر کریں|شیئر|"
    r"شارك|شاركوا|शेयर करें|शेयर|שתפו|שתף|κοινοποίηση|แชร์|分享到|分享|シェアする|シェア|공유)"
    r"( (this|on|via|auf|sur|en|article|story|post|artikel|l'article))*( (facebook|twitter|x|email|e-mail|"
    r"linkedin|whatsapp|pinterest|reddit|telegram))*|"
    r"(facebook|twitter|x|email|e-mail|linkedin|whatsapp|pinterest|reddit|telegram|print|copy link|"
    r"flipboard|tumblr|messenger|sms|mail|drucken|imprimer|imprimir|drukuj|tweet|teilen|share|pin|"
    r"copy|link|kopieren)([\s,/|·•]+(facebook|twitter|x|email|e-mail|linkedin|whatsapp|pinterest|"
    r"reddit|telegram|print|copy link|flipboard|tumblr|messenger|sms|mail|drucken|imprimer|"
    r"imprimir|drukuj|tweet|teilen|share|pin|copy|link|kopieren))*|"
    # what a share-by-email or reprint widget says
    r"order reprints?|reprints?( (and|&) permissions)?|print (this )?(article|story|page)|"
    r"(an )?error (has )?occurred.{0,40}|something went wrong.{0,40}|please try again( later)?\.?|"
    r"this (article|story) has been sent to.{0,40})",
    # legal / site footer
    r"((©|\(c\)|copyright)\s.*|all rights reserved\.?|(جملہ حقوق محفوظ ہیں|جميع الحقوق محفوظة|"
    r"सर्वाधिकार सुरक्षित|כל הזכויות שמורות|все права защищены|版权所有|版權所有|無断転載を禁じます|"
    r"สงวนลิขสิทธิ์|με την επιφύλαξη παντός δικαιώματος).{0,80}|alle rechte vorbehalten\.?|"
    r"tous droits réservés\.?|todos los derechos reservados\.?|wszelkie prawa zastrzeżone\.?|"
    r"privacy( policy| notice| settings)?|cookie (policy|settings|preferences)|terms( of (use|service))?|"
    r"terms (and|&) conditions|impressum|datenschutz(erklärung)?|agb|kontakt|contact( us)?|"
    r"about( us)?|über uns|mentions légales|aviso legal|polityka prywatności|regulamin|"
    r"dmca( / correction notice)?|corrections?( policy)?|accessibility|sitemap|site map|rss( feeds?)?|"
    r"careers|jobs|advertise( with us)?|media kit|newsletters?|subscribe|abonnieren|"
    r"s'abonner|suscríbete|abbonati|subskrybuj|sign in|sign up|log ?in|log ?out|register|"
    r"anmelden|registrieren|se connecter|connexion|iniciar sesión|zaloguj( się)?|my account|"
    r"mein konto|mon compte|mi cuenta|moje konto)",
    # image credits alone on a line
    r"((photo|image|picture|foto|bild|credit|photograph|illustration)s?( credit)?\s*[:/].{0,60}|"
    r"(getty images|reuters|afp|ap photo|dpa|shutterstock|istock(photo)?|epa)(/[\w .-]+)?|"
    r"published|updated|posted|veröffentlicht|aktualisiert|publié|publicado|citation:?)",
]
# "Read also: <headline>", "Lesen Sie auch: ...", "Czytaj też: ...": a rail or an inline
# teaser, label first. Matched as a prefix; the rest of the line must be short.
_TEASER_PREFIX = re.compile(
    r"^(read (also|more|next)|see also|see more|also read|also on [\w.-]+|on [\w-]+\.(com|net|org|co\.uk)|"
    r"related|more on this|recommended|watch|listen|mira|mire|vea|"
    r"lesen sie (auch|mehr|hier)|lies auch|siehe auch|mehr zum thema|mehr dazu|auch interessant|"
    r"weitere (artikel|themen|informationen|infos|beiträge)|weiterlesen|zum thema|"
    r"(à )?lire aussi|voir aussi|à voir aussi|sur le même sujet|"
    r"(le |te )?puede interesar|lea también|lee también|ver también|noticias? relacionadas?|notas relacionadas|"
    r"leggi anche|vedi anche|czytaj (też|także|również|więcej)|zobacz (też|także|również)|"
    r"przeczytaj (też|także|również)|leia (também|mais)|veja também|lees ook|zie ook|"
    r"auch lesen|mehr themen|top[- ]themen|weitere beiträge|vea también|puedes ver|lee más|"
    r"читайте также|смотрите также|ये भी पढ़ें|यह भी पढ़ें|یہ بھی پڑھیں|اقرأ أيضا|اقرأ أيضاً|קראו עוד|"
    r"διαβάστε επίσης|อ่านเพิ่มเติม|相关阅读|延伸阅读|あわせて読みたい)\b\s*([:\-–—»>|]|$)",
    re.IGNORECASE,
)
# "Weitere Informationen zum Coronavirus in Thüringen:" - a short label that introduces a
# list of links.
_LINK_LIST_LABEL = re.compile(
    r"^(weitere|mehr|andere|further|more|other|autres|plus d'|más|otras|otros|altri|altre|więcej|inne)\s+"
    r"(\w+\s+)?(informationen|infos|beiträge|artikel|themen|links|news|stories|articles|reading|"
    r"information|resources|nachrichten|meldungen|informations|actualités|lectures|noticias|artículos|"
    r"informaciones|articoli|notizie|artykuły|informacje|wiadomości)\b.{0,50}:$",
    re.IGNORECASE,
)

_WHOLE_LINE_RE = re.compile(r"^(?:" + "|".join(_WHOLE_LINE) + r")$", re.IGNORECASE)
_AD_RE = re.compile(r"^(?:" + _WHOLE_LINE[0] + r")$", re.IGNORECASE)

# Calls to action addressed to the reader: a short line that tells "you" to do something
# with the site (subscribe, follow, sign up, download the app, enable JavaScript, accept
# cookies). Matched anywhere in a short line.
_CTA = re.compile(
    r"\b(sign up|signup|subscribe|subscription|newsletter|inbox|posteingang|boîte de réception|bandeja de entrada|log in|login|sign in|"
    r"register now|create (an|a free) account|download (the|our) app|get the app|"
    r"follow us|follow (related )?(authors|topics)|like us on|join us on|"
    r"enable javascript|javascript (is )?(disabled|required)|browser (does not|doesn't) support|"
    r"update your browser|accept (all )?cookies|we use cookies|this (site|website) uses cookies|"
    r"cookie(s)? (policy|settings|consent)|your (personal )?news ?feed|"
    r"click here|tap here|click to (share|email|print|tweet|open)|opens in (a )?new window|read more|weiterlesen|mehr lesen|lire la suite|leer más|czytaj (dalej|więcej)|"
    r"leggi (anche|tutto)|continue reading|keep reading|read full (story|article)|"
    r"jetzt abonnieren|newsletter abonnieren|abonnez-vous|inscrivez-vous|suscríbete|zapisz się|"
    r"melden sie sich|registrieren sie sich|folgen sie uns|suivez-nous|síguenos|obserwuj nas|"
    r"support (our|independent) journalism|become a (member|subscriber|patron)|"
    r"already a subscriber|unlimited (online |digital )?access|free trial|limited time offer|"
    r"(reserved|available|exclusive) (for|to) (subscribers|members|premium members)|"
    r"réservée? aux abonnés|nur für abonnenten|exklusiv für abonnenten|exclusivo para (suscriptores|socios|assinantes)|"
    r"riservato agli abbonati|alleen voor abonnees|for more (stories|articles|news) like this|"
    r"(have|got) a story (to tell|to share|for us)|before commenting|"
    r"get (the )?(latest|daily|weekly|breaking)\b.{0,40}\b(news|headlines|updates|newsletter|email)|"
    r"stay (on top|informed|up to date|in the know)|don't miss|never miss|"
    r"share (this|your|it)|send us (a )?tip|gefällt (dir|ihnen) (unser|dieser)|enthält affiliate|"
    r"affiliate links?|verraten sie (uns )?(gerne )?in den kommentaren|schreiben sie (uns )?in die kommentare|"
    r"sign up to (get|receive)|tell us what you think|nicht eingeloggt|not logged in|what you think about this|"
    r"letter to the editor|download (the|our) [\w ]{0,30}apps?|hazte (miembro|socio)|únete|"
    r"canal de youtube|youtube channel|akzeptieren sie unsere|you agree to (our|the)|"
    r"(tiempo|temps|czas) (de )?(lectura|lecture|czytania)|przeczytasz w|top[- ]themen|"
    r"have a (news )?tip|contact the author|"
    r"report (an )?(error|typo)|see (our|the) (privacy|cookie)|by (clicking|signing up|subscribing))\b",
    re.IGNORECASE,
)

# Calls to action that need no further check: nobody writes these in an article.
_STRONG_CTA = re.compile(
    r"\b(follow [\w.@-]+( [\w.-]+)? on (instagram|facebook|twitter|youtube|linkedin|tiktok)|"
    r"(sign up|subscribe) (for|to) (our|the) [\w ]{0,30}newsletter|^sign up to (get|receive)\b|^support (our|independent|local|quality) journalism\b|share (it|this) with (a friend|your friends)|"
    r"like (this|the) (story|article)\?|apps? for (ios|iphone) and android|(submit|write) a letter to the editor|please (subscribe|log ?in|sign ?in|register)|"
    r"(to (view|read|continue reading) (the|this) (full )?(story|article)))",
    re.IGNORECASE,
)
_ALSO_ON = re.compile(r"^(also on|auch auf|aussi sur|también en|anche su|ook op) [\w-]+\.[a-z.]{2,6}\b", re.IGNORECASE)

# Lines that ask for corrections, share requests and "Follow" blocks, in several languages:
# "Spotted an error? Send a correction.", "Fehler gefunden? Jetzt melden.", "Follow Victor
# Davis Hanson on Twitter", "Partagez cet article". Nobody writes these in the story.
_CORRECTION = re.compile(
    r"^(spotted|found|see|notice|noticed) (an? )?(error|mistake|typo)s?\b|^(send|submit|report) (us )?an? (correction|error|typo)\b|"
    r"^(fehler|tippfehler) (gefunden|entdeckt)\b|^(haben sie|hast du) einen fehler (gefunden|entdeckt)|"
    r"^(vous avez )?(repéré|trouvé|vu) une (erreur|faute)|^signaler une (erreur|faute)|"
    r"^¿?(has|ha) (visto|encontrado) (un|algún) error|^(reportar|notificar) (un )?error|"
    r"^(hai|avete) (trovato|notato) un errore|^segnala (un )?errore|"
    r"^(zauważyłeś|zauważyłaś|znalazłeś) błąd|^zgłoś błąd|^encontrou um erro|"
    r"^(corrections?|korrekturen?|rectificatifs?) ?(policy|hinweis)?\s*:|"
    # Dutch, Portuguese, Russian, Swedish, Danish/Norwegian, Czech, Turkish: the question
    # ("Fout gezien?", "Нашли опечатку? Выделите её и нажмите Ctrl+Enter") or the button
    r"^((heb je|heeft u|zie je) een )?(fout|taalfout|typfout) (gezien|gevonden|ontdekt)\s*\?|^meld (een|de) fout\b|"
    r"^(você )?(viu|achou|encontrou) (um|algum) erro\s*\?|"
    r"^если вы (нашли|заметили) (ошибку|опечатку)\b|^(нашли|заметили) (ошибку|опечатку)\s*\?|"
    r"^(har du )?(hittat|sett) (ett )?(fel|stavfel)\s*\?|^(har du )?(fundet|funnet) (en )?(fejl|feil)\s*\?|"
    r"^(našli|našel|našla) jste (chybu|překlep)\s*\?|^nahlásit chybu\b|"
    r"^(bir )?(hata|yazım hatası) (mı )?(buldunuz|gördünüz)\s*\?|^hata bildir\b",
    re.IGNORECASE,
)
_SOCIAL = r"(twitter|x|facebook|instagram|linkedin|tiktok|youtube|threads|bluesky|mastodon|telegram|google news)"
_FOLLOW = re.compile(
    rf"^(follow|folgen|folge|suivre|suivez|seguir|segui|obserwuj|volg)( us| me| uns| nous| nos)?$|"
    rf"^(follow|folgen sie|folge|suivez|síguenos|sigue a|segui|obserwuj|volg)\b.{{0,50}}\b(on|auf|sur|en|su|na|op) {_SOCIAL}\b.{{0,20}}$|"
    rf"^(follow|folgen sie|suivez|sigue a|obserwuj) @\w+|^(folgen sie uns|suivez-nous|síguenos|obserwuj nas|seguici)\b|"
    # Dutch, Portuguese, Swedish, Danish/Norwegian, Czech, Turkish, Russian
    rf"^(volg ons|siga-nos|siga|följ oss|følg os|følg oss|sledujte nás)\b(.{{0,50}}\b(op|no|nas|på|na) {_SOCIAL}\w*.{{0,20}})?$|"
    rf"^bizi\b.{{0,50}}\btakip edin\b.{{0,20}}$|"
    rf"^(подписывайтесь|подпишитесь)\b.{{0,60}}\b({_SOCIAL[1:-1]}|телеграм|telegram-канал|вконтакте|vk|дзен|одноклассниках)\b.{{0,20}}$",
    re.IGNORECASE,
)
_SHARE_LINE = re.compile(
    r"^(share|teilen sie|partagez|partager|comparte|compartir|condividi|udostępnij|deel|compartilhe|partilhe|"
    r"dela|del|sdílet|sdílejte|paylaş|поделиться|поделитесь)\b"
    r".{0,40}\b(article|story|post|page|artikel|beitrag|cet article|esta (noticia|nota)|questo articolo|"
    r"artykuł|dit artikel|esta matéria|este artigo|esta notícia|artikeln|artiklen|artikkelen|článek|článkem|"
    r"haberi|статьей|статьёй|новостью|материалом|публикацией)\b|"
    r"^(bu )?(haberi|yazıyı|makaleyi) paylaş(ın)?\b",
    re.IGNORECASE,
)
# Caption labels glued to their text ("Media captionWho is Julian Assange?") and photo
# credits written as a phrase ("Photo by Jane Doe on Unsplash", "Foto von Max Muster").
_CAPTION_LABEL = re.compile(
    r"^(media caption|image caption|photo caption|image copyright|picture caption|bildunterschrift|"
    r"légende( de la photo)?|pie de foto|didascalia)|"
    r"^(photo|photograph|picture|image|illustration|foto|bild)s? (by|courtesy( of)?|via|von|de|di|par)\s",
    re.IGNORECASE,
)

# Bylines / datelines that stand alone: "By Jane Doe", "Published 3 hours ago", ...
# The byline is case-sensitive on purpose: "By Jane Doe" is a byline, "By the end of the
# day, ..." is a sentence.
_BYLINE_LEAD = re.compile(
    r"^(By|BY|Von|VON|Par|PAR|Por|POR|Di|Door|Av|Af|Yazan|Written by|Posted by|Text:|Autor:|Author:|Autorin:|"
    r"By:|BY:|Von:|VON:|Par:|Por:|Door:|Av:)\s+(.*)$"
)
_BYLINE_TAIL = re.compile(r"\s*[,|·•–—]\s*|\s+-\s+|\s+(on|at|am|le|el|il|updated|published)\s+")
_NAME_PARTICLES = {"van", "von", "de", "der", "da", "di", "del", "la", "le", "and", "und", "et", "y", "i"}


def _is_byline(c: str) -> bool:
    m = _BYLINE_LEAD.match(c)
    if not m:
        return False
    name = _BYLINE_TAIL.split(m.group(2), maxsplit=1)[0].split()
    return 0 < len(name) <= 6 and all(w[0].isupper() or w.lower() in _NAME_PARTICLES for w in name)


# Staff credits that close a wire or newspaper story: "(Reporting by Jane Doe; Editing by
# John Roe)", "Fox News' Jane Doe contributed to this report.", "Write to Jane Doe at
# jane.doe@example.com".
_STAFF_CREDIT = re.compile(
    r"^\(?((additional|further) )?(reporting|writing) by\b[^()]{0,250}\)?\.?$|^\(?editing by\b[^()]{0,120}\)?\.?$|"
    r"^\(?((additional|further) reporting|with (additional )?(reports|reporting)) from\b[^(),]{0,80}\)?\.?$|"
    r"^[\w.'’ ,&-]{2,160} contributed (reporting|to (this|the) (report|story|article))\.?$|"
    r"^write to [^@]{1,80}\bat [\w.+-]+@[\w-]+\.[\w.-]+\.?$",
    re.IGNORECASE,
)
# Pitches and notices around a story: membership offers, reprint terms, "follow our
# coverage" lines ("Follow The Times Opinion section on Facebook, Twitter and Instagram.").
_PITCH = re.compile(
    r"\bif you (enjoyed|liked|like|enjoy|value|appreciate) (this|the|our|reading) "
    r"(article|story|post|piece|journalism|reporting|content)\b|"
    r"\bfor your personal,? non-?commercial use only\b|"
    r"^follow (ap'?s|ap’s|our|the [\w ]{1,40}?'?s?) (full |complete |latest |live )?coverage\b|"
    rf"^follow\b[^,;:]{{0,80}}\bon {_SOCIAL}\b[^.]{{0,80}}\.?$",
    re.IGNORECASE,
)
_META_LINE = re.compile(
    r"^(published|updated|posted|last updated|veröffentlicht|aktualisiert|zuletzt aktualisiert|publié|mis à jour|"
    r"publicado|actualizado|opublikowano|zaktualizowano|stand|pubblicato|aggiornato|gepubliceerd|bijgewerkt|"
    r"publicerad|uppdaterad|publiceret|opdateret|publisert|oppdatert|julkaistu|päivitetty|publikováno|"
    r"aktualizováno|zveřejněno|güncelleme|güncellenme|опубликовано|обновлено)\b"
    # a full stop only after a digit ("13. Mai", "22.04.2024, 06:00 Uhr", "14.14")
    r"(?:[^.]|(?<=\d)\.){0,60}\d(?:[^.]|(?<=\d)\.){0,40}$"
    r"|^\d+\s*(min|minute|minuten|minutes|mins?)\.?\s*(read|lesezeit|de lecture|lectura|czytania)$"
    r"|^(reading time|lesezeit|temps de lecture)\b.{0,30}$"
    r"|^(updated|published|posted)?\s*\d+ (seconds?|minutes?|hours?|days?|weeks?) ago$",
    re.IGNORECASE,
)

# Words that address the reader (or speak for the site): a call to action has them or
# has no sentence ending; a news sentence that mentions a newsletter usually has neither.
_ADDRESS = re.compile(
    r"\b(you|your|you're|yours|us|our|we|sie|ihr|ihre|ihnen|uns|unser|unsere|du|dich|dir|dein|deine|deinen|deinem|"
    r"deiner|euch|euer|eure|vous|votre|vos|nous|"
    r"notre|nos|usted|tu|tus|nuestro|nuestra|nosotros|ty|twój|nas|nasz|nasze|u|uw|ons|onze)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…。！？]['\"”’»)\]]*$")

# A line that is only a date and/or time ("November 19, 2019 at 6:34 am", "2 days ago at
# 07:52 am", "19.11.2019, 14:05 Uhr"): a timestamp of a post, comment or teaser.
_MONTHS = (
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|januar|februar|märz|mai|juni|"
    r"juli|oktober|dezember|janvier|février|mars|avril|juin|juillet|août|septembre|"
    r"octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|"
    r"septiembre|octubre|noviembre|diciembre|stycznia|lutego|marca|kwietnia|maja|"
    r"czerwca|lipca|sierpnia|września|października|listopada|grudnia|janeiro|fevereiro|março|maio|"
    r"junho|julho|setembro|outubro|novembro|dezembro)[a-z]*\.?"
)
_DAYS = (
    r"(mon|tue|wed|thu|fri|sat|sun|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|"
    r"mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|jueves|viernes|sábado|domingo|"
    r"(segunda|terça|quarta|quinta|sexta)-feira)[a-z]*\.?,?"
)
_TIME = r"(\d{1,2}[:.h]\d{2}(\s*(am|pm|a\.m\.|p\.m\.|uhr|h))?(\s*[a-z]{2,4})?)"
_DATE = (
    rf"(\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}|"
    rf"{_MONTHS}\s+\d{{1,2}}(st|nd|rd|th)?,?(\s+\d{{4}})?|\d{{1,2}}\.?\s+(de\s+)?{_MONTHS}(\s+(de\s+)?\d{{4}})?|"
    rf"\d+\s+(seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago|"
    rf"yesterday|today|gestern|heute|hier|aujourd'hui)"
)
_TIME_FIRST = re.compile(rf"^{_TIME}[\s,|·-]+({_DAYS}\s+)?{_DATE}$", re.IGNORECASE)
_DATETIME_LINE = re.compile(
    rf"^({_DAYS}\s+)?({_DATE})?([\s,|·-]*(at|um|à|às|a las|o)?\s*{_TIME})?([\s,|·-]+by\s+.{{1,40}})?$", re.IGNORECASE
)

# Comment sections: a header ("34 Comments", "Leave a Reply", "[ 167 comments ]") or a
# commenter line ("joe says:"). Everything after such a marker is reader comments.
_COMMENT_MARK = re.compile(
    r"^(\[?\s*\d+\s+(comments?|responses?|replies|kommentare?|commentaires?|comentarios?|"
    r"komentarz\w*|reacties|reactions?)\s*\]?( to .{1,200})?|"
    r"(top rated |reader |recent |show |view |load |see all )?(comments?|kommentare|commentaires|"
    r"comentarios|komentarze|reacties)( \(\d+\))?|leave a (comment|reply)|post a comment|"
    r"add a comment|write a comment|join the (conversation|discussion)|discussion|"
    r"what do you think\??|comments are closed\.?|kommentar schreiben|"
    r"laisser un commentaire|deja un comentario|dodaj komentarz|"
    r"[\w .'’-]{1,40} (says|said|wrote|schreibt|a écrit|dice|escribió|pisze|napisał):?)$",
    re.IGNORECASE,
)


_RAIL_HEADER = re.compile(_WHOLE_LINE[2], re.IGNORECASE)
_F_COMMENT_MARK = _Folded(_COMMENT_MARK)


def is_rail_header(line: str) -> bool:
    """A heading of a rail of links to other articles ("Related Stories", "Mehr zum Thema")."""
    c = core(line)
    return bool(c) and len(c) < 80 and bool(_RAIL_HEADER.fullmatch(c))


def is_comment_marker(line: str, facts: LineFacts | None = None) -> bool:
    f = facts if facts is not None else line_facts(line)
    return bool(f.core) and len(f.core) < 260 and bool(_F_COMMENT_MARK.match(f.core, f.lower))


# Photo captions end with a credit: "(AP Photo/David Zalubowski)", "Credit: ESA",
# "Photo: Getty Images", "(pictured)". Captions are not article text.
_CAPTION_CREDIT = re.compile(
    r"(\((ap|afp|reuters|getty|epa|dpa|kyodo|xinhua|ansa)( photo| images)?[^)]{0,60}\)|"
    r"\b(photo|photograph|image|picture|credit|foto|bild|titelbild|bildquelle|fotos|quelle|crédit|crédito)s?"
    r"( credit)?\s*[:©]\s*(?-i:[A-Z])[^.:]{1,50}|"
    r"\bfot\.\s*(?-i:[A-Z])[^.:]{1,50}|"
    r"\((photo|image|picture|foto|bild|source|credit)s?\s*:[^)]{1,60}\)|"
    r"©\s*(?-i:[A-Z])[^.:]{1,60}|"
    r"\b(getty images|shutterstock|istock|ap photo|afp photo|reuters/[\w ]+|dpa)\s*)\)?\.?$",
    re.IGNORECASE,
)
# Site legal text: disclaimers, trademark notices, "all rights reserved".
_LEGAL = re.compile(
    r"all rights reserved|alle rechte vorbehalten|tous droits réservés|todos los derechos reservados|"
    r"registered trademarks? of|(information|content|material)s? (provided|contained|published) on this (web)?site|"
    r"this (web)?site (is|does not|uses|and its)|not (been )?evaluated by the food and drug|"
    r"materiał chroniony prawem autorskim",
    re.IGNORECASE,
)
# Gallery captions: "1of4Grass Valley's...", "2 of 12 A shopper...".
_GALLERY = re.compile(r"^\d{1,3}\s*(of|von|sur|de)\s*\d{1,3}\s*(?-i:[A-Z])")

# Post metadata packed in one line: "05/10/2018 - Publicado por: X - Categoria: Y - Tags: z".
_META_FIELDS = re.compile(
    r"\b(tags|tagged|categor(y|ies|ia|ie)|kategorie|publicado por|posted in|filed under|"
    r"schlagwörter|étiquettes|etiquetas|tagi|kategoria|タグ|カテゴリー?|标签|分类|태그|카테고리)\s*[:：]",
    re.IGNORECASE,
)
_ONLY_CONTACT = re.compile(
    r"^((mailto:)?[\w.+-]+@[\w-]+\.[\w.-]+|(https?://)?(www\.)?(twitter|x|facebook|instagram|linkedin)\.com/\S+|@\w{2,30}|https?://\S+)$",
    re.IGNORECASE,
)
# A wire agency sign-off on its own: "aja/PAP", "(dpa)", "dpa/lno", "jW/AFP".
_SIGNOFF = re.compile(r"^\(?[a-z]{2,4}(/[a-z]{2,4})*/[A-Z]{2,5}\)?$|^[A-Z]{2,5}/[a-z]{2,4}$")
_SHORTCODE = re.compile(r"^\[/?[a-z_]+( [^\]]*)?\].*$")
_BRACKET_TAG = re.compile(
    r"\[(video|videos|insight|reaction|pictures|pics|photos|gallery|poll|live|watch|"
    r"analysis|latest|revealed|update|exclusive)\]\s*\|?$",
    re.IGNORECASE,
)

_COPYRIGHT_YEAR = re.compile(r"^copyright\s+\d{4}", re.IGNORECASE)
_COPYRIGHT_LABEL = re.compile(r"^copyright\s*:", re.IGNORECASE)
_F_DATETIME_LINE = _Folded(_DATETIME_LINE)
_F_TIME_FIRST = _Folded(_TIME_FIRST)
_F_CAPTION_CREDIT = _Folded(
    _CAPTION_CREDIT,
    ("(", ":", "©", "fot.", "getty images", "shutterstock", "istock", "ap photo", "afp photo", "reuters/", "dpa"),
)
_F_META_FIELDS = _Folded(_META_FIELDS, (":", "："))
_F_WHOLE_LINE = _Folded(_WHOLE_LINE_RE)
_F_LEGAL = _Folded(
    _LEGAL,
    ("rights reserved", "rechte vorbehalten", "droits réservés", "derechos reservados", "trademark")
    + ("this site", "this website", "evaluated by", "chroniony prawem"),
)
_F_STRONG_CTA = _Folded(
    _STRONG_CTA,
    ("follow", "newsletter", "sign up", "journalism", "share", "android", "letter to the editor", "please")
    + ("story", "article"),
)
_F_PITCH = _Folded(_PITCH, ("if you", "for your personal", "follow"))
_F_CTA = _Folded(_CTA)
_F_ONLY_CONTACT = _Folded(_ONLY_CONTACT)
_F_TEASER_PREFIX = _Folded(_TEASER_PREFIX)
_F_META_LINE = _Folded(_META_LINE)


def furniture_kind(line: str, facts: LineFacts | None = None) -> str | None:
    """Why this line is furniture ("ad", "cta", "nav", ...), or None if it may be content.
    ``facts``: line_facts(line), when the caller already has them."""
    f = facts if facts is not None else line_facts(line)
    c, low = f.core, f.lower
    if not c:
        return "empty" if line.strip() else None
    n = len(f.tokens)
    if n == 0:
        return "symbols"  # "***", "|", "•••": separators are not text
    if c.startswith(("©", "(c) ", "(C) ", "Copyright ©", "Copyright (c)")) or _COPYRIGHT_YEAR.match(c):
        return "legal"  # a copyright notice is furniture whatever its length
    if n <= 16 and (_F_DATETIME_LINE.match(c, low) or _F_TIME_FIRST.match(c, low)):
        return "meta"
    if _F_ONLY_CONTACT.match(c, low) or _SHORTCODE.match(c):
        return "contact"
    if n <= 3 and "/" in c and _SIGNOFF.match(c):
        return "signoff"
    if n <= 10 and line.rstrip().endswith(":") and _LINK_LIST_LABEL.match(line.strip()):
        return "teaser"
    if _COPYRIGHT_LABEL.match(c):
        return "legal"
    if n <= 40 and (_F_CAPTION_CREDIT.search(c, low) or _GALLERY.match(c)):
        return "caption"
    if n <= 30 and _F_META_FIELDS.search(c, low):
        return "meta"
    if n <= 25 and _BRACKET_TAG.search(c):
        return "teaser"
    if n <= 12:
        bare = c.rstrip(".…!?") or c  # "You may also like...", "More…"
        bare_low = (low.rstrip(".…!?") or low) if low is not None else None  # bare.lower()
        if _F_WHOLE_LINE.match(bare, bare_low):
            return "ad" if _AD_RE.match(bare) else "nav"
    if n <= 70 and _F_LEGAL.search(c, low):
        return "legal"
    if n <= 25 and (_F_TEASER_PREFIX.match(c, low) or _ALSO_ON.match(c)):
        return "teaser"
    if n <= 40 and _F_STRONG_CTA.search(c, low):
        return "cta"
    if n <= 25 and _CORRECTION.search(c):
        return "cta"
    if n <= 10 and (_FOLLOW.match(c) or _SHARE_LINE.match(c)):
        return "cta"
    if n <= 30 and _CAPTION_LABEL.match(c):
        return "caption"
    if n <= 20 and _F_CTA.search(c, low) and (not _SENTENCE_END.search(c) or _ADDRESS.search(c)):
        return "cta"
    if n <= 16 and (_F_META_LINE.match(c, low) or _is_byline(c)):
        return "meta"
    if n <= 45 and _STAFF_CREDIT.match(c):
        return "meta"
    if n <= 60 and _F_PITCH.search(c, low):
        return "cta"
    return None


# --- credit lines: "this page is a copy of another outlet's" ------------------------------
_HOST = r"(?P<host>(?:https?://)?[\w.-]+\.[a-z]{2,}(?:/\S*)?)"
_NAME = r"(?P<name>[^\n]{2,80}?)"
_CREDIT_PATTERNS = [
    rf"^read (the )?(original|full) (article|story|post)( (on|at|from|here))?( {_NAME})?\.?$",
    rf"^(this|the) (article|story|post|piece|report) (was )?(originally|first) (appeared|published|posted|ran)"
    rf"( (on|in|at|by))?( {_NAME})?\.?$",
    rf"^(this|the) (article|story|post) (originally|first) appeared (on|in|at) {_NAME}\.?$",
    rf"^(originally|first) (published|appeared|posted) (on|in|at|by) {_NAME}\.?$",
    rf"^the post .{{1,200}} appeared first on {_NAME}\.?$",
    r"^(original )?source( link)?$",
    r"^(source|original source|source link|quelle|source originale|fuente|fonte|źródło|bron)\s*[:\-–]\s*(?P<name>\S.{0,80})$",
    r"^via\s*:?\s*(https?://\S+|[\w.-]+\.[a-z]{2,}|[A-Z][\w&.-]*(\s+[A-Z][\w&.-]*){0,4})$",
    rf"^(republished|reprinted|reproduced) (with permission )?(from|by|courtesy of) {_NAME}\.?$",
    rf"^(this|the) (article|story) (is|was) republished from {_NAME}.{{0,160}}$",
    rf"^(der artikel|dieser artikel) (erschien|ist) (zuerst|ursprünglich) (bei|auf|in) {_NAME}\.?$",
    rf"^(cet article|l'article) (a été )?(initialement|d'abord) (publié|paru) (sur|dans|par) {_NAME}\.?$",
    rf"^(este artículo|el artículo) (fue )?(publicado originalmente|apareció originalmente) (en|por) {_NAME}\.?$",
]
_CREDIT_RE = [re.compile(p, re.IGNORECASE) for p in _CREDIT_PATTERNS]
# All of them in one anchored pattern (names dropped: a name may appear once per pattern):
# most lines fail it at their first characters, so the list above runs only on real hits.
_ANY_CREDIT = re.compile(
    "|".join(f"(?:{re.sub(r'[(][?]P<[a-z]+>', '(?:', p)})" for p in _CREDIT_PATTERNS), re.IGNORECASE
)
_URL_IN = re.compile(r"https?://[^\s\"'<>)]+")


@dataclass(frozen=True, slots=True)
class Credit:
    """A credit line: the page names another outlet's page as the original."""

    line: str
    name: str | None = None  # the outlet as written ("Business Insider", "example.com")
    url: str | None = None  # a URL written in the line, if any


_CREDIT_HINT = re.compile(
    r"original|source|appeared|published|republished|reprinted|reproduced|via|quelle|erschien|"
    r"publié|publicado|fuente|fonte|źródło|bron",
    re.IGNORECASE,
)


def credit_line(line: str, facts: LineFacts | None = None) -> Credit | None:
    """The credit this line gives another outlet, if it is a credit line. ``facts``:
    line_facts(line), when the caller already has them."""
    c = facts.core if facts is not None else core(line)
    if not c or len(c) > 400 or not _ANY_CREDIT.match(c) or not _CREDIT_HINT.search(c):
        return None
    for rx in _CREDIT_RE:
        m = rx.match(c)
        if m:
            name = None
            for group in ("host", "name"):
                if group in rx.groupindex and m.group(group):
                    name = m.group(group).strip(" .:")
            url = _URL_IN.search(line)
            return Credit(line=line, name=name or None, url=url.group(0) if url else None)
    return None
