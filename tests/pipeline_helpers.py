"""Building test pages: syndicated copies of a story with another site's furniture."""

from __future__ import annotations

from pathlib import Path

STRAIGHT = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def story_paragraphs(text: str, *, min_words: int = 12) -> list[str]:
    """The prose paragraphs of a plain-text page (long lines)."""
    return [line.strip() for line in text.splitlines() if len(line.split()) >= min_words]


def syndicated_text_copy(original: str, *, keep: float = 0.7, dateline: str = "WASHINGTON (Reuters) - ") -> str:
    """A wire copy as another outlet shows it: its own menus and footer, a dateline on the
    lede, the last paragraphs trimmed, curly quotes made straight."""
    paras = story_paragraphs(original)
    paras = paras[: max(3, int(len(paras) * keep))]
    paras[0] = dateline + paras[0]
    body = "\n\n".join(p.translate(STRAIGHT) for p in paras)
    return (
        "Menu\n\nHome\n\nWorld\n\nBusiness\n\nSports\n\nSign in\n\nSubscribe now\n\n"
        + body
        + "\n\nShare this article\n\nFacebook\n\nTwitter\n\nEmail\n\n"
        "Sign up for our daily newsletter to get the top stories delivered to your inbox.\n\n"
        "Copyright 2026 The Daily Example. All rights reserved.\n\nPrivacy Policy\n\nTerms of Use\n"
    )


def syndicated_html_copy(original: str, *, keep: float = 0.75, title: str = "UPDATE 1-Wire story") -> str:
    paras = story_paragraphs(original)
    paras = paras[: max(3, int(len(paras) * keep))]
    paras[0] = "(AP) \u2014 " + paras[0]
    body = "\n".join(f"<p>{p}</p>" for p in paras)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>" + title + "</title></head><body>"
        "<header><nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/biz'>Business</a></nav></header>"
        "<main><article><h1>" + title + "</h1><div class='byline'>By Staff</div>" + body + "</article></main>"
        "<aside><h3>Most read</h3><ul><li><a href='/a'>Another story entirely about local sports</a></li>"
        "<li><a href='/b'>Weather for the weekend looks fine</a></li></ul></aside>"
        "<footer><p>Copyright 2026 Example Gazette. All rights reserved.</p></footer></body></html>"
    )


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path
