"""schema.org vocabulary the stages share: which JSON-LD ``@type`` values name an article.

Lower-case names; the page-type check (fetching) and the stated-metadata reader (extractors)
both take a page whose JSON-LD has one of them as an article.
"""

ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "blogposting",
        "report",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "askpublicnewsarticle",
        "liveblogposting",
        "techarticle",
        "scholarlyarticle",
        "socialmediaposting",
        "satiricalarticle",
    }
)
