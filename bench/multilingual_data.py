#!/usr/bin/env python3
"""Build the multilingual development data: text pages and a syndication corpus per script.

    .venv/bin/python bench/multilingual_data.py [--out bench/out/multilingual] [--seed 0]

Sources (nothing here is copied into tests):
- trafilatura-eval pages (shared/data/extraction/trafilatura-eval, many languages): each
  page rendered to a text page (bench/render_text.py, the textpages rules), scored later
  with its must-have / must-not-have snippets; the element holding all must-have snippets
  is the page's article (its body container) and the page is an outlet template.
- articles in scripts trafilatura-eval lacks: tests/data/multilingual/articles.jsonl
  (hand-written news in Urdu, Hindi, Arabic, Hebrew, Greek, Thai, Russian, Chinese, with
  same-topic pairs as hard negatives), and the non-Latin pages of external-dev with their
  truth (Hindi, Japanese, Korean, Russian/Ukrainian, Chinese).
- English reference articles: the textpages dev truth (ScrapingHub bodies).

Outputs under --out:
- ``textpages/pages/<id>.txt`` + ``textpages/truth.jsonl`` ``{"id", "script", "lang",
  "text" | "with"/"without", "source"}``: every article on a native-language outlet page
  (menus, teaser rail of other headlines in its language, share bar, footer, cookie
  prompt) and on a real trafilatura-eval template, rendered to text.
- ``syndication/docs``, ``meta.jsonl``, ``truth.jsonl`` (as shared/data/dedup/syndication-dev,
  plus ``script`` and ``lang``), ``bodies.jsonl``: each article's original and 0-4 copies on
  other outlets with the edits that corpus uses, made language-aware (datelines and credit
  lines in the article's language, punctuation re-spaced the way each script's copy desks
  do, native and ASCII digits swapped, full- and half-width CJK punctuation swapped).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html as htmlmod
import json
import random
import re
import sys
from pathlib import Path

from lxml import html as lhtml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from render_text import render  # noqa: E402

from wiredesk.extractors.decoding import decode_page  # noqa: E402
from wiredesk.extractors.language import dominant_script, guess_language  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
TE = SHARED / "extraction" / "trafilatura-eval"
EXTERNAL = SHARED / "extraction" / "external-dev"
ARTICLES = ROOT / "tests" / "data" / "multilingual" / "articles.jsonl"

# Outlet furniture per language: menu, rail header, share bar, comments, ad marker, cookie
# prompt, newsletter, footer, "originally appeared" footer, dateline, credit and editor's note.
FURNITURE: dict[str, dict] = {
    "ur": {
        "menu": ["ہوم", "پاکستان", "دنیا", "کھیل", "کاروبار", "تفریح", "ویڈیو"],
        "rail": "یہ بھی پڑھیں",
        "share": "شیئر کریں",
        "comments": "تبصرے",
        "ad": "اشتہار",
        "cookie": "ہم آپ کے تجربے کو بہتر بنانے کے لیے کوکیز استعمال کرتے ہیں۔ قبول کریں",
        "newsletter": "ہمارے نیوز لیٹر کے لیے سائن اپ کریں",
        "footer": "جملہ حقوق محفوظ ہیں © 2024",
        "original": "یہ خبر پہلے {site} پر شائع ہوئی۔",
        "dateline": ["اسلام آباد (اے پی پی) — ", "کراچی (ویب ڈیسک) ", "لاہور (نامہ نگار) — "],
        "credit": "اضافی رپورٹنگ: احمد علی؛ ادارت: سارہ خان",
        "note": "ایڈیٹر کا نوٹ: اس خبر کو تازہ معلومات کے ساتھ اپ ڈیٹ کیا گیا ہے۔",
        "update": "تازہ ترین: ",
    },
    "hi": {
        "menu": ["होम", "देश", "विदेश", "खेल", "बिज़नेस", "मनोरंजन", "वीडियो"],
        "rail": "ये भी पढ़ें",
        "share": "शेयर करें",
        "comments": "टिप्पणियाँ",
        "ad": "विज्ञापन",
        "cookie": "हम आपके अनुभव को बेहतर बनाने के लिए कुकीज़ का उपयोग करते हैं। स्वीकार करें",
        "newsletter": "हमारे न्यूज़लेटर की सदस्यता लें",
        "footer": "सर्वाधिकार सुरक्षित © 2024",
        "original": "यह ख़बर मूल रूप से {site} पर प्रकाशित हुई थी।",
        "dateline": ["नई दिल्ली (भाषा)। ", "मुंबई (एजेंसी)। ", "लखनऊ, 19 नवंबर (वार्ता) — "],
        "credit": "अतिरिक्त रिपोर्टिंग: राहुल शर्मा; संपादन: प्रिया सिंह",
        "note": "संपादक की टिप्पणी: इस ख़बर को नई जानकारी के साथ अपडेट किया गया है।",
        "update": "अपडेट: ",
    },
    "ar": {
        "menu": ["الرئيسية", "أخبار", "اقتصاد", "رياضة", "ثقافة", "منوعات", "فيديو"],
        "rail": "اقرأ أيضا",
        "share": "شارك",
        "comments": "التعليقات",
        "ad": "إعلان",
        "cookie": "نستخدم ملفات تعريف الارتباط لتحسين تجربتك. موافق",
        "newsletter": "اشترك في نشرتنا الإخبارية",
        "footer": "جميع الحقوق محفوظة © 2024",
        "original": "نشر هذا المقال أولا على موقع {site}.",
        "dateline": ["القاهرة (رويترز) - ", "دبي (أ ف ب) – ", "عمان، 19 نوفمبر (الأناضول) - "],
        "credit": "شارك في التغطية: أحمد حسن؛ تحرير: منى علي",
        "note": "ملاحظة المحرر: تم تحديث هذا الخبر بمعلومات جديدة.",
        "update": "محدث: ",
    },
    "he": {
        "menu": ["ראשי", "חדשות", "כלכלה", "ספורט", "תרבות", "בריאות", "וידאו"],
        "rail": "עוד באתר",
        "share": "שתפו",
        "comments": "תגובות",
        "ad": "פרסומת",
        "cookie": "אתר זה משתמש בעוגיות כדי לשפר את חוויית הגלישה. אישור",
        "newsletter": "הירשמו לניוזלטר שלנו",
        "footer": "כל הזכויות שמורות © 2024",
        "original": "הכתבה פורסמה לראשונה באתר {site}.",
        "dateline": ["תל אביב (רויטרס) – ", "ירושלים (וואלה) - "],
        "credit": "השתתפו בהכנת הכתבה: דנה כהן; עריכה: יוסי לוי",
        "note": "הערת העורך: הכתבה עודכנה במידע חדש.",
        "update": "עדכון: ",
    },
    "el": {
        "menu": ["Αρχική", "Ελλάδα", "Κόσμος", "Οικονομία", "Αθλητισμός", "Πολιτισμός", "Βίντεο"],
        "rail": "Διαβάστε επίσης",
        "share": "Κοινοποίηση",
        "comments": "Σχόλια",
        "ad": "Διαφήμιση",
        "cookie": "Χρησιμοποιούμε cookies για να βελτιώσουμε την εμπειρία σας. Αποδοχή",
        "newsletter": "Εγγραφείτε στο newsletter μας",
        "footer": "© 2024 Με την επιφύλαξη παντός δικαιώματος",
        "original": "Το άρθρο δημοσιεύθηκε αρχικά στο {site}.",
        "dateline": ["ΑΘΗΝΑ (ΑΠΕ-ΜΠΕ) - ", "ΘΕΣΣΑΛΟΝΙΚΗ, 19 Νοεμβρίου (Reuters) – "],
        "credit": "Συνεργάστηκε η Μαρία Παπαδοπούλου· επιμέλεια: Γιώργος Νικολάου",
        "note": "Σημείωση του συντάκτη: το άρθρο ενημερώθηκε με νέα στοιχεία.",
        "update": "ΕΝΗΜΕΡΩΣΗ: ",
    },
    "th": {
        "menu": ["หน้าแรก", "ข่าว", "การเมือง", "เศรษฐกิจ", "กีฬา", "บันเทิง", "วิดีโอ"],
        "rail": "ข่าวที่เกี่ยวข้อง",
        "share": "แชร์",
        "comments": "ความคิดเห็น",
        "ad": "โฆษณา",
        "cookie": "เว็บไซต์นี้ใช้คุกกี้เพื่อประสบการณ์ที่ดีขึ้น ยอมรับ",
        "newsletter": "สมัครรับจดหมายข่าว",
        "footer": "สงวนลิขสิทธิ์ © 2567",
        "original": "ข่าวนี้เผยแพร่ครั้งแรกที่ {site}",
        "dateline": ["กรุงเทพฯ (รอยเตอร์) - ", "เชียงใหม่ (สำนักข่าวไทย) – "],
        "credit": "รายงานเพิ่มเติมโดย สมชาย ใจดี บรรณาธิการ สุดา แก้วมณี",
        "note": "หมายเหตุบรรณาธิการ ข่าวนี้ได้รับการปรับปรุงข้อมูลล่าสุดแล้ว",
        "update": "อัปเดต ",
    },
    "ru": {
        "menu": ["Главная", "Политика", "Экономика", "Общество", "Спорт", "Культура", "Видео"],
        "rail": "Читайте также",
        "share": "Поделиться",
        "comments": "Комментарии",
        "ad": "Реклама",
        "cookie": "Мы используем файлы cookie, чтобы улучшить работу сайта. Принять",
        "newsletter": "Подпишитесь на нашу рассылку",
        "footer": "© 2024 Все права защищены",
        "original": "Материал впервые опубликован на сайте {site}.",
        "dateline": ["МОСКВА, 19 ноя — РИА Новости. ", "(ТАСС) — ", "САНКТ-ПЕТЕРБУРГ (Интерфакс) - "],
        "credit": "При участии Анны Ивановой; редактор Сергей Петров",
        "note": "Примечание редакции: материал дополнен новыми сведениями.",
        "update": "ОБНОВЛЕНО: ",
    },
    "zh": {
        "menu": ["首页", "国内", "国际", "财经", "体育", "娱乐", "视频"],
        "rail": "相关新闻",
        "share": "分享到",
        "comments": "评论",
        "ad": "广告",
        "cookie": "本网站使用Cookie以改善您的浏览体验。同意",
        "newsletter": "订阅我们的新闻邮件",
        "footer": "版权所有 © 2024",
        "original": "本文首发于{site}。",
        "dateline": ["新华社北京11月19日电 ", "（中新社）", "【环球网报道】"],
        "credit": "（记者 王伟 编辑 李娜）",
        "note": "编者按：本文已根据最新情况更新。",
        "update": "最新：",
    },
    "ja": {
        "menu": ["ホーム", "国内", "国際", "経済", "スポーツ", "エンタメ", "動画"],
        "rail": "関連記事",
        "share": "シェアする",
        "comments": "コメント",
        "ad": "広告",
        "cookie": "当サイトはクッキーを使用しています。同意する",
        "newsletter": "ニュースレターに登録",
        "footer": "Copyright © 2024 All rights reserved.",
        "original": "この記事は{site}に最初に掲載されました。",
        "dateline": ["【共同】", "（時事通信）"],
        "credit": "（取材・文 山田太郎）",
        "note": "編集部注：この記事は最新の情報に更新されました。",
        "update": "更新：",
    },
}
LATIN = {
    "menu": ["Home", "News", "World", "Business", "Sport", "Culture", "Video"],
    "rail": "Related stories",
    "share": "Share",
    "comments": "Comments",
    "ad": "Advertisement",
    "cookie": "We use cookies to improve your experience. Accept",
    "newsletter": "Sign up for our newsletter",
    "footer": "© 2024 All rights reserved",
    "original": "This article originally appeared on {site}.",
    "dateline": ["WASHINGTON (Reuters) - ", "(AP) — ", "LONDON, Nov 19 (AFP) - "],
    "credit": "Additional reporting by Anna Smith; Editing by John Doe",
    "note": "Editor's note: this story has been updated with new information.",
    "update": "UPDATE 1-",
}
NATIVE_DIGITS = {"ur": "۰۱۲۳۴۵۶۷۸۹", "ar": "٠١٢٣٤٥٦٧٨٩", "hi": "०१२३४५६७८९", "th": "๐๑๒๓๔๕๖๗๘๙"}
RTL = {"ur", "ar", "he", "fa"}


def furniture(lang: str) -> dict:
    return FURNITURE.get(lang, LATIN)


# ------------------------------------------------------------------- articles


def load_articles(rng: random.Random) -> list[dict]:
    """Every article: {id, lang, script, headline, paragraphs, source}."""
    out = []
    for line in ARTICLES.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        a = json.loads(line)
        out.append({**a, "script": dominant_script(" ".join(a["paragraphs"])), "source": "handwritten"})
    for bench in ("fundus-news", "readability", "dragnet"):
        for line in (EXTERNAL / bench / "truth.jsonl").read_text(encoding="utf-8").split("\n"):
            if not line.strip():
                continue
            r = json.loads(line)
            text = r["truth"]
            if r.get("truth_format") == "html":
                text = render(text, style="compact")
            script = dominant_script(text)
            if script in (None, "LATIN"):
                continue
            paras = [p.strip() for p in text.splitlines() if len(p.strip()) > 1]
            if len(paras) < 2:
                continue
            out.append(
                {
                    "id": f"{bench}:{r['id']}",
                    "lang": guess_language(text) or "?",
                    "script": script,
                    "headline": paras[0][:120],
                    "paragraphs": paras[1:60],
                    "source": bench,
                }
            )
    # English reference articles (the F1 the other scripts are compared with)
    truth = SHARED / "textpages" / "dev" / "truth.jsonl"
    eng = [json.loads(x) for x in truth.read_text(encoding="utf-8").split("\n") if x.strip()]
    eng = [r for r in eng if guess_language(r["text"]) == "en" and 800 < len(r["text"]) < 6000]
    for r in rng.sample(eng, min(12, len(eng))):
        paras = [p.strip() for p in r["text"].splitlines() if p.strip()]
        out.append(
            {
                "id": f"sh:{r['id'][:16]}",
                "lang": "en",
                "script": "LATIN",
                "headline": " ".join(paras[0].split()[:10]),
                "paragraphs": paras,
                "source": "scrapinghub",
            }
        )
    return out


# ------------------------------------------------------------------- templates


def te_templates() -> list[dict]:
    """trafilatura-eval pages usable as outlet templates: the smallest element whose text
    holds every must-have snippet (and no must-not-have snippet) is the body container."""
    rows = [json.loads(x) for x in (TE / "ground_truth.jsonl").read_text(encoding="utf-8").split("\n") if x.strip()]
    out = []
    for r in rows:
        raw = gzip.decompress((TE / "html" / f"{r['id']}.html.gz").read_bytes())
        text = decode_page(raw, kind="html", header_encoding=None)
        try:
            doc = lhtml.document_fromstring(text)
        except Exception:
            continue
        body = _container(doc, r["with"], r["without"])
        path = body.getroottree().getpath(body) if body is not None else None
        tpl = {"row": r, "html": text, "body_path": path}
        if path and not _clean_template(tpl):
            tpl["body_path"] = None
        out.append(tpl)
    return out


def _clean_template(tpl: dict) -> bool:
    """A template is usable when, its body container emptied, none of its own article is
    left (no must-have snippet) and the rest is furniture-sized: no run of prose that could
    be a second article (the syndication corpus removed the template's article wherever it
    appeared; pages listing many full articles cannot be cleaned that way, so they are left out)."""
    page = render(fill_template(tpl, "x", [], "en"))
    if any(_norm(m) in _norm(page) for m in tpl["row"]["with"]):
        return False
    prose = [ln for ln in page.splitlines() if len(ln.split()) >= 25]
    return sum(len(ln.split()) for ln in prose) < 120


def _norm(s: str) -> str:
    return " ".join(s.split())


def _container(doc, must: list[str], must_not: list[str]):
    # the deepest element holding every must-have snippet: walk down from <body> while a
    # child still holds them all
    must = [_norm(m) for m in must]
    el = doc.find("body")
    if el is None or not all(m in _norm(el.text_content()) for m in must):
        return None
    while True:
        nxt = next((c for c in el if isinstance(c.tag, str) and all(m in _norm(c.text_content()) for m in must)), None)
        if nxt is None:
            break
        el = nxt
    t = _norm(el.text_content())
    if any(_norm(m) in t for m in must_not) or el.tag not in ("div", "article", "section", "main", "td", "body"):
        return None
    return el


def fill_template(tpl: dict, headline: str, paragraphs: list[str], lang: str) -> str:
    doc = lhtml.document_fromstring(tpl["html"])
    body = doc.getroottree().xpath(tpl["body_path"])[0]
    for el in list(body):
        body.remove(el)
    body.text = None
    direction = ' dir="rtl"' if lang in RTL else ""
    frag = f'<div lang="{lang}"{direction}><h1>{htmlmod.escape(headline)}</h1>' + "".join(
        f"<p>{htmlmod.escape(p)}</p>" for p in paragraphs
    )
    body.append(lhtml.fragment_fromstring(frag + "</div>"))
    # the template's own headline and title elsewhere on the page
    title = tpl["row"].get("title")
    if title:
        for el in doc.iter("h1", "h2", "title"):
            if _norm(el.text_content()) == _norm(title):
                el.text, el[:] = headline, []
    return lhtml.tostring(doc, encoding="unicode")


def native_page(site: str, lang: str, headline: str, paragraphs: list[str], rail: list[str], rng: random.Random) -> str:
    """An outlet page in the article's language: menus, a teaser rail of other headlines,
    share bar, ad markers between paragraphs, comments, newsletter, cookie prompt, footer."""
    f = furniture(lang)
    e = htmlmod.escape
    direction = ' dir="rtl"' if lang in RTL else ""
    menu = "".join(f'<li><a href="/{i}">{e(m)}</a></li>' for i, m in enumerate(f["menu"]))
    paras = []
    for i, p in enumerate(paragraphs):
        paras.append(f"<p>{e(p)}</p>")
        if i == 1 and rng.random() < 0.6:
            paras.append(f'<div class="ad">{e(f["ad"])}</div>')
    rail_html = "".join(f'<li><a href="/r{i}">{e(h)}</a></li>' for i, h in enumerate(rail))
    return (
        f'<!doctype html><html lang="{lang}"{direction}><head><title>{e(headline)} | {site}</title></head><body>'
        f'<div class="cookie">{e(f["cookie"])}</div>'
        f"<header><div>{e(site)}</div><nav><ul>{menu}</ul></nav></header>"
        f"<main><article><h1>{e(headline)}</h1><div>{e(site)} · 19.11.2024 10:32</div>"
        f'<div class="share">{e(f["share"])} Facebook Twitter WhatsApp</div>'
        + "".join(paras)
        + f"</article><aside><h3>{e(f['rail'])}</h3><ul>{rail_html}</ul></aside>"
        f"<section><h3>{e(f['comments'])}</h3></section></main>"
        f'<div class="newsletter">{e(f["newsletter"])}</div>'
        f"<footer><ul>{menu}</ul><p>{e(f['footer'])} {e(site)}</p></footer></body></html>"
    )


# ------------------------------------------------------------------- edits


_SPACE_BEFORE = re.compile("([^\\s])([۔،؟।॥.,!?])")


def respace(text: str, lang: str, rng: random.Random) -> str:
    """Punctuation re-spaced as copy desks do: a space before sentence marks (Urdu, Hindi),
    full-width and half-width CJK punctuation swapped."""
    if lang in ("zh", "ja"):
        table = str.maketrans({"，": ", ", "。": ". ", "！": "! ", "？": "? ", "：": ": ", "、": ", "})
        return text.translate(table).strip()
    return _SPACE_BEFORE.sub(r"\1 \2", text)


def swap_digits(text: str, lang: str) -> str:
    native = NATIVE_DIGITS.get(lang)
    if not native:
        return text
    if any(c in native for c in text):
        return text.translate(str.maketrans(native, "0123456789"))
    return text.translate(str.maketrans("0123456789", native))


def word_edits(paragraphs: list[str], rate: float, rng: random.Random, unspaced: bool) -> list[str]:
    out = []
    for p in paragraphs:
        if unspaced:  # delete single characters
            chars = [c for c in p if not (rng.random() < rate / 2 and not c.isspace())]
            out.append("".join(chars))
            continue
        toks = p.split(" ")
        for i in range(len(toks) - 1):
            if rng.random() < rate / 2:
                toks[i], toks[i + 1] = toks[i + 1], toks[i]
        toks = [t for t in toks if rng.random() >= rate / 2 or len(toks) < 5]
        out.append(" ".join(toks))
    return out


def make_copy(a: dict, site: str, rng: random.Random) -> tuple[str, list[str], list[str]]:
    """(headline, paragraphs, transforms) of a syndicated copy."""
    f = furniture(a["lang"])
    paras = list(a["paragraphs"])
    head = a["headline"]
    done = []
    unspaced = a["script"] in ("CJK", "HIRAGANA", "THAI")
    if rng.random() < 0.5:
        paras[0] = rng.choice(f["dateline"]) + paras[0]
        done.append("dateline")
    if rng.random() < 0.6 and len(paras) > 2:
        cut = int(len(paras) * rng.uniform(0.0, 0.35))
        if cut:
            paras = paras[:-cut]
            done.append("trim")
    if rng.random() < 0.6:
        head = f["update"] + head if rng.random() < 0.5 else f"{head} | {site}"
        done.append("headline")
    if rng.random() < 0.5:
        paras = [respace(p, a["lang"], rng) for p in paras]
        done.append("respace")
    if rng.random() < 0.4 and a["lang"] in NATIVE_DIGITS:
        paras = [swap_digits(p, a["lang"]) for p in paras]
        done.append("digits")
    if rng.random() < 0.5:
        paras = [p.replace(" ", "  ", 1).replace(" ", "\u00a0", 1) for p in paras]
        done.append("whitespace")
    if rng.random() < 0.7:
        paras = word_edits(paras, rng.uniform(0.01, 0.03), rng, unspaced)
        done.append("words")
    if rng.random() < 0.3 and len(paras) > 2:  # newspapers re-paragraph agency copy
        k = rng.randrange(len(paras) - 1)
        paras[k : k + 2] = [paras[k] + " " + paras[k + 1]]
        done.append("merge-paragraphs")
    if rng.random() < 0.3:
        paras.insert(min(2, len(paras)), f["note"])
        done.append("note")
    if rng.random() < 0.4:
        paras.append(f["credit"])
        done.append("credit")
    if rng.random() < 0.4:
        paras.append(f["original"].format(site=site))
        done.append("footer")
    return head, paras, done


# ------------------------------------------------------------------- build


def _hex(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def build(out: Path, seed: int) -> dict:
    rng = random.Random(seed)
    articles = load_articles(rng)
    all_templates = te_templates()
    templates = [t for t in all_templates if t["body_path"]]
    rng.shuffle(templates)
    pages_dir = out / "textpages" / "pages"
    pages_dir.mkdir(parents=True, exist_ok=True)
    tp_truth = []
    # 1. trafilatura-eval pages as they are, rendered (snippet truth)
    for t in all_templates:
        r = t["row"]
        text = render(t["html"], style=rng.choice(["blank", "blank", "blank", "compact"]))
        script = dominant_script(" ".join(r["with"])) or "LATIN"
        pid = f"te-{r['id']}"
        (pages_dir / f"{pid}.txt").write_text(text, encoding="utf-8")
        tp_truth.append(
            {
                "id": pid,
                "script": script,
                "lang": guess_language(" ".join(r["with"]) + " " + (r.get("title") or "")) or "?",
                "with": r["with"],
                "without": r["without"],
                "source": "trafilatura-eval",
            }
        )
    # 2. every article on a native page and on a real template (full-text truth)
    by_lang: dict[str, list[dict]] = {}
    for a in articles:
        by_lang.setdefault(a["lang"], []).append(a)
    for k, a in enumerate(articles):
        others = [b["headline"] for b in by_lang[a["lang"]] if b is not a] or [b["headline"] for b in articles[:6]]
        rail = rng.sample(others, min(5, len(others)))
        truth_text = "\n".join(a["paragraphs"])
        for kind, html in (
            ("native", native_page(f"site{k}.example", a["lang"], a["headline"], a["paragraphs"], rail, rng)),
            ("template", fill_template(templates[k % len(templates)], a["headline"], a["paragraphs"], a["lang"])),
        ):
            pid = f"{kind}-{_hex(a['id'], kind)}"
            style = rng.choice(["blank", "blank", "blank", "compact"])
            (pages_dir / f"{pid}.txt").write_text(render(html, style=style), encoding="utf-8")
            tp_truth.append(
                {"id": pid, "script": a["script"], "lang": a["lang"], "text": truth_text, "source": a["source"]}
            )
    (out / "textpages" / "truth.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in tp_truth), encoding="utf-8"
    )
    # 3. the syndication corpus: an original and 0-4 copies per article
    syn = out / "syndication"
    docs = syn / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    meta, truth, bodies = [], [], []
    outlets = templates[: max(12, len(templates) // 4)]
    for k, a in enumerate(articles):
        n_copies = rng.choice([0, 1, 2, 3, 3, 4])
        chosen = rng.sample(range(len(outlets)), n_copies + 1)
        for c, o in enumerate(chosen):
            site = f"outlet{o}.example"
            if c == 0:
                head, paras, done, role = a["headline"], list(a["paragraphs"]), [], "original"
            else:
                head, paras, done = make_copy(a, site, rng)
                role = "copy"
            native = rng.random() < 0.5
            if native:
                others = [b["headline"] for b in by_lang[a["lang"]] if b is not a] or [articles[0]["headline"]]
                html = native_page(site, a["lang"], head, paras, rng.sample(others, min(4, len(others))), rng)
            else:
                html = fill_template(outlets[o], head, paras, a["lang"])
            name = _hex(seed, a["id"], c)
            if rng.random() < 0.3:
                name += ".txt"
                (docs / name).write_text(render(html, style=rng.choice(["blank", "compact"])), encoding="utf-8")
            else:
                name += ".html"
                (docs / name).write_text(html, encoding="utf-8")
            published = f"2024-11-{10 + c:02d}T{8 + k % 10:02d}:00:00Z"
            url = f"https://{site}/{_hex(name)}"
            meta.append({"file": name, "url": url, "published": published})
            truth.append(
                {
                    "file": name,
                    "cluster": f"c{k:03d}",
                    "role": role,
                    "outlet": site,
                    "published": published,
                    "url": url,
                    "format": "txt" if name.endswith(".txt") else "html",
                    "source": a["id"],
                    "script": a["script"],
                    "lang": a["lang"],
                    "transforms": done,
                }
            )
            bodies.append({"file": name, "headline": head, "text": "\n".join(paras)})
    for fname, rows in (("meta.jsonl", meta), ("truth.jsonl", truth), ("bodies.jsonl", bodies)):
        (syn / fname).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return {"articles": len(articles), "text_pages": len(tp_truth), "documents": len(meta)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "multilingual")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED}")
    print(json.dumps(build(a.out, a.seed)))


if __name__ == "__main__":
    main()
