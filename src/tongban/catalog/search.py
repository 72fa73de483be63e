"""Chinese full-text search over the published catalog.

Text is segmented with jieba (search mode, so 社会保险 also yields 社会 and 保险) and stored in
:class:`SearchEntry`, one row per item whose current version is published. The index on top:

* SQLite: the FTS5 table ``catalog_search_fts`` (rowid = item id, columns ``name_tokens`` and
  ``tokens``, ranked with bm25). Triggers on ``catalog_searchentry`` keep it in step with every
  write, including cascades; migration 0002 creates both, :func:`ensure_index` re-creates them
  (``tongban reindex_search``) should a later table rebuild have dropped the triggers.
* PostgreSQL: a GIN index on ``setweight(to_tsvector('simple', name_tokens), 'A') ||
  setweight(to_tsvector('simple', tokens), 'B')``, ranked with ``ts_rank``.

FTS5's trigram tokenizer would not match two-character words (社保, 户口), and Debian's
PostgreSQL ships no Chinese parser: hence segmentation in Python and plain space-separated tokens
in the database.

A query is parsed into *groups* (one per word the user typed); each group has *alternatives*
(the word and its synonyms from :class:`Synonym`, both directions); an alternative matches when
all its tokens are present. Items matching every group are returned; if none does, items
matching any group. Items whose name matches rank above items matching only in the body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import jieba
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from . import bulk, segmentation
from .models import Faq, Item, SearchEntry, Synonym, VersionStatus

FTS_TABLE = "catalog_search_fts"
# The expression indexed on PostgreSQL; queries must repeat it verbatim to use the GIN index.
PG_VECTOR = ("(setweight(to_tsvector('simple'::regconfig, name_tokens), 'A') || "
             "setweight(to_tsvector('simple'::regconfig, tokens), 'B'))")
PG_INDEX = "catalog_searchentry_tsv_gin"
# bm25 weights of the FTS5 columns (name_tokens, tokens): a name hit outweighs a body hit.
BM25_WEIGHTS = (10.0, 1.0)

REINDEX_BATCH = 500  # items per query; keeps IN (...) lists small on every database
MAX_QUERY_CHARS = 60
MAX_GROUPS = 8
# Words that say nothing about which item is meant; dropped from queries unless they are a
# synonym term themselves.
STOPWORDS = frozenset((
    "的", "了", "和", "与", "及", "或", "在", "是", "吗", "呢", "吧", "啊", "我", "我们", "你",
    "您", "要", "我要", "我想", "想", "想要", "需要", "怎么", "怎样", "如何", "什么", "哪里", "哪儿", "在哪",
    "在哪里", "去", "到", "可以", "能", "能否", "是否", "办", "办理", "怎么办", "怎么样", "申请",
    "手续", "流程", "哪些", "多久",
))
_SPLIT_RE = re.compile(r"[\s,，。、;；:：!！?？()（）\[\]【】《》<>\"'“”‘’/\\|]+")


def segment(text: str) -> list[str]:
    """Search-mode segmentation; single characters of punctuation and space are dropped.

    jieba's HMM guess for unknown words is off: it glues a word to its neighbour (残疾人证新办
    → 残疾人 证新办), so that 证 is never found. Without it, unknown runs fall apart into single
    characters, which index and query then share. (Computed run by run with each run's words
    remembered, the same words as jieba gives for the whole text: ``segmentation``.)
    """
    return segmentation.segment(text)


def _has_letter(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def _tiling(word: str) -> tuple[str, ...] | None:
    """The fewest dictionary words of two or more characters that spell ``word`` exactly."""
    pieces = {p.lower() for p in jieba.cut_for_search(word, HMM=False) if len(p) >= 2 and p.lower() != word}
    best: dict[int, tuple[str, ...]] = {0: ()}
    for start in range(len(word)):
        if start not in best:
            continue
        for piece in pieces:
            if word.startswith(piece, start):
                end, candidate = start + len(piece), (*best[start], piece)
                if end not in best or len(candidate) < len(best[end]):
                    best[end] = candidate
    found = best.get(len(word))
    return found if found and len(found) >= 2 else None


def _ways(phrase: str) -> tuple[tuple[str, ...], ...]:
    """The token sets any of which, all present, count as ``phrase`` being present."""
    words = [w.lower() for w in jieba.cut(phrase, HMM=False) if _has_letter(w)]
    if not words:
        return ()
    if len(words) == 1:
        tiling = _tiling(words[0])
        return ((words[0],), tiling) if tiling else ((words[0],),)
    whole = phrase.lower()
    ways: list[tuple[str, ...]] = [tuple(dict.fromkeys(words))]
    if " " not in whole and all(_has_letter(ch) or ch.isspace() for ch in whole):
        ways.insert(0, (whole,))  # the phrase may also stand as one word in some text
    return tuple(ways)


# --- keeping the index ------------------------------------------------------------------------

def reindex_items(item_ids: Iterable[int]) -> None:
    """Rebuild the search entries of these items from their current published version.

    Items without a published current version (cancelled, never published) lose their entry,
    so they drop out of search at once. The FTS5 table follows through triggers. Works in
    batches, so a whole workbook's items can be passed at once; for thousands of items, when
    the caller allows it (``segmentation.worker_processes``: a command, never a page), the
    segmentation runs in worker processes (``segmentation.Segmenter``) while this process reads
    the next batch and writes the entries of the previous ones — the same entries either way.
    """
    ids = list(dict.fromkeys(item_ids))  # each item once: its entry is deleted, then written
    with segmentation.Segmenter(expected=len(ids)) as segmenter:
        for start in range(0, len(ids), REINDEX_BATCH):
            _reindex_batch(ids[start:start + REINDEX_BATCH], segmenter)


def entry_body(*, name: str, department: str, topics: Iterable[str], conditions: str,
               result_name: str, location: str, receiving_unit: str | None,
               faq_questions: Iterable[str]) -> str:
    """The text an item is found by (its name is also indexed on its own, weighing more)."""
    return " ".join([name, department, " ".join(topics), conditions, result_name, location,
                     receiving_unit or "", " ".join(faq_questions)])


_ENTRY_ROWS = bulk.Rows(SearchEntry, ["item", "name_tokens", "tokens"])


def _reindex_batch(ids: list[int], segmenter: segmentation.Segmenter) -> None:
    # Read as plain values (no model objects): this runs over every item of an import. The
    # status is compared here, not in SQL: a filter on it lets SQLite's planner start from the
    # index on the versions' status and scan every published version for each batch.
    rows = [row[1:] for row in Item.objects.filter(pk__in=ids).values_list(
        "current__status", "pk", "current_id", "current__name", "department__name",
        "current__topics", "current__conditions", "current__result_name", "current__location",
        "current__receiving_unit__name") if row[0] == VersionStatus.PUBLISHED]
    questions: dict[int, list[str]] = {}
    for version_id, question in Faq.objects.filter(
            version_id__in=[row[1] for row in rows]).values_list("version_id", "question"):
        questions.setdefault(version_id, []).append(question)  # in Faq's order (position)
    SearchEntry.objects.filter(item_id__in=ids).delete()
    texts = [(name, entry_body(name=name, department=department, topics=topics,
                               conditions=conditions, result_name=result_name, location=location,
                               receiving_unit=receiving_unit,
                               faq_questions=questions.get(version_id, ())))
             for (_pk, version_id, name, department, topics, conditions, result_name, location,
                  receiving_unit) in rows]
    item_ids = [row[0] for row in rows]

    def write(words: list[tuple[str, str]]) -> None:
        _ENTRY_ROWS.insert((item_id, name_tokens, tokens)
                           for item_id, (name_tokens, tokens) in zip(item_ids, words, strict=True))

    segmenter.submit(texts, write)


def reindex_all() -> int:
    """Rebuild the whole index (``tongban reindex_search``); returns the number of entries."""
    ensure_index()
    SearchEntry.objects.all().delete()
    with segmentation.worker_processes():  # only the command rebuilds the whole index
        reindex_items(Item.objects.order_by("pk").values_list("pk", flat=True))
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # Rebuild the FTS rows from the entries outright, in case triggers were missing.
            cursor.execute(f"DELETE FROM {FTS_TABLE}")
            cursor.execute(f"INSERT INTO {FTS_TABLE}(rowid, name_tokens, tokens) "
                           "SELECT item_id, name_tokens, tokens FROM catalog_searchentry")
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES('optimize')")
    return SearchEntry.objects.count()


SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "name_tokens, tokens, tokenize = 'unicode61')",
    "CREATE TRIGGER IF NOT EXISTS catalog_searchentry_fts_ai AFTER INSERT ON catalog_searchentry "
    f"BEGIN INSERT INTO {FTS_TABLE}(rowid, name_tokens, tokens) "
    "VALUES (new.item_id, new.name_tokens, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS catalog_searchentry_fts_ad AFTER DELETE ON catalog_searchentry "
    f"BEGIN DELETE FROM {FTS_TABLE} WHERE rowid = old.item_id; END",
    "CREATE TRIGGER IF NOT EXISTS catalog_searchentry_fts_au AFTER UPDATE ON catalog_searchentry "
    f"BEGIN DELETE FROM {FTS_TABLE} WHERE rowid = old.item_id; "
    f"INSERT INTO {FTS_TABLE}(rowid, name_tokens, tokens) "
    "VALUES (new.item_id, new.name_tokens, new.tokens); END",
)
POSTGRES_DDL = (f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON catalog_searchentry USING GIN ({PG_VECTOR})",)


def ensure_index() -> None:
    """Create the database's full-text structures if missing (same DDL as migration 0002)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for sql in SQLITE_DDL:
                cursor.execute(sql)
        elif connection.vendor == "postgresql":
            # Checked first: CREATE INDEX, even IF NOT EXISTS, fails inside a transaction that
            # has pending deferred-constraint events on the table.
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [PG_INDEX])
            if cursor.fetchone() is None:
                for sql in POSTGRES_DDL:
                    cursor.execute(sql)


# --- parsing a query --------------------------------------------------------------------------

@dataclass(frozen=True)
class Alternative:
    """One way to satisfy a group: a phrase, found when all tokens of any of its ``ways`` are.

    A one-word phrase matches as that token, or as the shorter dictionary words that tile it
    (社会保险 → 社会 + 保险), because inside a longer word (社会保险费) jieba emits only the
    pieces. A phrase of several words matches when all its words are present.
    """

    phrase: str
    ways: tuple[tuple[str, ...], ...]

    @property
    def tokens(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for way in self.ways for t in way))

    def found_in(self, words: set[str]) -> bool:
        return any(set(way) <= words for way in self.ways)


@dataclass(frozen=True)
class Group:
    word: str
    alternatives: tuple[Alternative, ...]


@dataclass
class ParsedQuery:
    text: str
    groups: list[Group] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.groups

    def expansions(self) -> list[str]:
        """The synonyms the query was widened with (for telling the user)."""
        return [alt.phrase for g in self.groups for alt in g.alternatives[1:]]


# Every query needs the synonyms; they change only through the admin, so they are kept in the
# cache and forgotten when one is saved or deleted (again at commit). The time limit bounds
# how long another process with its own local-memory cache may use the old ones.
_SYNONYMS_KEY = "catalog:synonyms"
SYNONYMS_TIMEOUT = 300


def synonym_map() -> dict[str, list[str]]:
    """Every synonym relation, both directions: term → its synonyms, synonym → its terms."""
    mapping: dict[str, list[str]] | None = cache.get(_SYNONYMS_KEY)
    if mapping is None:
        mapping = _read_synonym_map()
        cache.set(_SYNONYMS_KEY, mapping, timeout=SYNONYMS_TIMEOUT)
    return mapping


def _forget_synonyms(**_: object) -> None:
    cache.delete(_SYNONYMS_KEY)
    transaction.on_commit(lambda: cache.delete(_SYNONYMS_KEY))


def connect() -> None:
    """Forget the kept synonyms whenever one is saved or deleted."""
    post_save.connect(_forget_synonyms, sender=Synonym, dispatch_uid="search_synonyms_save")
    post_delete.connect(_forget_synonyms, sender=Synonym, dispatch_uid="search_synonyms_delete")


def _read_synonym_map() -> dict[str, list[str]]:
    mapping: dict[str, list[str]] = {}
    for syn in Synonym.objects.all():
        term = syn.term.strip()
        for other in syn.synonym_list():
            mapping.setdefault(term, []).append(other)
            mapping.setdefault(other, []).append(term)
    return mapping


def _words(chunk: str, mapping: dict[str, list[str]]) -> list[str]:
    """jieba's words of ``chunk``, with runs of words that form a synonym phrase joined
    (最低 生活 保障 → 最低生活保障), so the phrase is expanded as a whole."""
    words = [w for w in jieba.cut(chunk, HMM=False) if w.strip()]
    joined: list[str] = []
    i = 0
    while i < len(words):
        end = next((j for j in range(len(words), i + 1, -1) if "".join(words[i:j]) in mapping), i + 1)
        joined.append("".join(words[i:end]))
        i = end
    return joined


def parse_query(text: str, synonyms: dict[str, list[str]] | None = None) -> ParsedQuery:
    """Turn what the user typed into groups of alternatives (see the module docstring)."""
    text = " ".join((text or "").split())[:MAX_QUERY_CHARS]
    parsed = ParsedQuery(text=text)
    if not text:
        return parsed
    mapping = synonym_map() if synonyms is None else synonyms
    seen: set[str] = set()
    for chunk in _SPLIT_RE.split(text):
        for word in _words(chunk, mapping) if chunk else []:
            key = word.lower()
            if key in seen or (key in STOPWORDS and key not in mapping):
                continue
            seen.add(key)
            alternatives: list[Alternative] = []
            for phrase in [word, *mapping.get(word, [])]:
                ways = _ways(phrase)
                if ways and all(a.ways != ways for a in alternatives):
                    alternatives.append(Alternative(phrase=phrase, ways=ways))
            if alternatives:
                parsed.groups.append(Group(word=word, alternatives=tuple(alternatives)))
    del parsed.groups[MAX_GROUPS:]
    return parsed


# --- running a query --------------------------------------------------------------------------

@dataclass(frozen=True)
class Hit:
    item_id: int
    name_groups: int  # how many query groups the item's name satisfies
    name_words: int  # how many of those with the very word typed, not a synonym
    score: float  # higher is better; comparable only within one search


@dataclass
class SearchResult:
    query: ParsedQuery
    hits: list[Hit]
    matched_all: bool  # False when no item matched every word and any word was accepted


def _fts5_string(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _fts5_match(groups: list[Group], *, every: bool) -> str:
    def alternative(alt: Alternative) -> str:
        return " OR ".join("(" + " AND ".join(_fts5_string(t) for t in way) + ")" for way in alt.ways)

    parts = ["(" + " OR ".join(alternative(a) for a in g.alternatives) + ")" for g in groups]
    return (" AND " if every else " OR ").join(parts)


def _pg_tsquery(groups: list[Group], *, every: bool) -> tuple[str, list[str]]:
    """A tsquery expression built from plainto_tsquery pieces, so no token needs escaping."""
    params: list[str] = []

    def alternative(alt: Alternative) -> str:
        ways = []
        for way in alt.ways:
            params.extend(way)
            ways.append("(" + " && ".join("plainto_tsquery('simple'::regconfig, %s)" for _ in way) + ")")
        return " || ".join(ways)

    parts = ["(" + " || ".join(alternative(a) for a in g.alternatives) + ")" for g in groups]
    return (" && " if every else " || ").join(parts), params


def _candidates(groups: list[Group], *, every: bool) -> list[tuple[int, str, float]]:
    """(item id, name tokens, score) of every entry matching; score higher is better."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"SELECT rowid, name_tokens, bm25({FTS_TABLE}, %s, %s) FROM {FTS_TABLE} "
                f"WHERE {FTS_TABLE} MATCH %s",
                [*BM25_WEIGHTS, _fts5_match(groups, every=every)],
            )
            return [(int(r[0]), r[1], -float(r[2])) for r in cursor.fetchall()]
        if connection.vendor == "postgresql":
            expr, params = _pg_tsquery(groups, every=every)
            cursor.execute(
                f"SELECT item_id, name_tokens, ts_rank({PG_VECTOR}, q) "
                f"FROM catalog_searchentry, (SELECT {expr} AS q) AS query WHERE {PG_VECTOR} @@ q",
                params,
            )
            return [(int(r[0]), r[1], float(r[2])) for r in cursor.fetchall()]
    # Any other database: a plain scan of the entries, so development still works.
    found = []
    for entry in SearchEntry.objects.all():
        words = set(entry.tokens.lower().split()) | set(entry.name_tokens.lower().split())
        hits = [any(a.found_in(words) for a in g.alternatives) for g in groups]
        if all(hits) if every else any(hits):
            found.append((entry.item_id, entry.name_tokens, float(sum(hits))))
    return found


def _name_matches(name_tokens: str, groups: list[Group]) -> tuple[int, int]:
    """(groups the name satisfies, groups it satisfies with the word itself)."""
    words = set(name_tokens.lower().split())
    any_form = sum(1 for g in groups if any(a.found_in(words) for a in g.alternatives))
    typed = sum(1 for g in groups if g.alternatives[0].found_in(words))
    return any_form, typed


def search(text: str) -> SearchResult:
    """Ranked hits for a query; an empty result for an empty or meaningless query.

    Ranking: items whose name satisfies more query words first; among those, names with the
    words as typed before names matching through a synonym; then the database's relevance score
    (bm25 / ts_rank, where the name column weighs more); then item id for stability.
    """
    parsed = parse_query(text)
    if parsed.is_empty:
        return SearchResult(query=parsed, hits=[], matched_all=True)
    matched_all = True
    rows = _candidates(parsed.groups, every=True)
    if not rows and len(parsed.groups) > 1:
        matched_all = False
        rows = _candidates(parsed.groups, every=False)
    hits = [Hit(item_id, *_name_matches(name, parsed.groups), score=score) for item_id, name, score in rows]
    hits.sort(key=lambda h: (-h.name_groups, -h.name_words, -h.score, h.item_id))
    return SearchResult(query=parsed, hits=hits, matched_all=matched_all)


# --- showing matches --------------------------------------------------------------------------

def _terms_in(text: str, query: ParsedQuery) -> list[str]:
    """What to mark in ``text``: whole phrases where they occur, else their tokens."""
    terms: set[str] = set()
    lowered = text.lower()
    for group in query.groups:
        for alt in group.alternatives:
            if alt.phrase.lower() in lowered:
                terms.add(alt.phrase)
            else:
                terms.update(t for t in alt.tokens if len(t) > 1 or t == group.word.lower())
    return sorted(terms, key=len, reverse=True)


def highlight(text: str, query: ParsedQuery) -> SafeString:
    """``text`` HTML-escaped, with every matched term wrapped in ``<mark>``."""
    terms = _terms_in(text, query) if query.groups else []
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(escape(text[last:match.start()]))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # every piece above was escaped


def snippet(text: str, query: ParsedQuery, *, width: int = 60) -> SafeString:
    """A short excerpt of ``text`` around its first match, highlighted; '' if nothing matches."""
    terms = _terms_in(text, query) if query.groups else []
    if not terms:
        return mark_safe("")
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    match = pattern.search(text)
    if match is None:
        return mark_safe("")
    start = max(0, match.start() - width // 3)
    end = min(len(text), start + width)
    excerpt = highlight(text[start:end], query)
    return mark_safe(("…" if start else "") + excerpt + ("…" if end < len(text) else ""))
