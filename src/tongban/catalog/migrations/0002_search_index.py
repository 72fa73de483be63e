"""The full-text index behind catalog search (see tongban.catalog.search).

SQLite: an FTS5 table mirroring catalog_searchentry (rowid = item id), kept in step by triggers.
PostgreSQL: a GIN index on the weighted tsvector of the entry's tokens ('simple' config).
The SQL is written out here rather than imported, because migrations must not import app code.
"""

from django.db import migrations

FTS = "catalog_search_fts"
SQLITE_FORWARD = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(name_tokens, tokens, tokenize = 'unicode61')",
    "CREATE TRIGGER IF NOT EXISTS catalog_searchentry_fts_ai AFTER INSERT ON catalog_searchentry "
    f"BEGIN INSERT INTO {FTS}(rowid, name_tokens, tokens) "
    "VALUES (new.item_id, new.name_tokens, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS catalog_searchentry_fts_ad AFTER DELETE ON catalog_searchentry "
    f"BEGIN DELETE FROM {FTS} WHERE rowid = old.item_id; END",
    "CREATE TRIGGER IF NOT EXISTS catalog_searchentry_fts_au AFTER UPDATE ON catalog_searchentry "
    f"BEGIN DELETE FROM {FTS} WHERE rowid = old.item_id; "
    f"INSERT INTO {FTS}(rowid, name_tokens, tokens) VALUES (new.item_id, new.name_tokens, new.tokens); END",
    f"DELETE FROM {FTS}",
    f"INSERT INTO {FTS}(rowid, name_tokens, tokens) SELECT item_id, name_tokens, tokens FROM catalog_searchentry",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS catalog_searchentry_fts_ai",
    "DROP TRIGGER IF EXISTS catalog_searchentry_fts_ad",
    "DROP TRIGGER IF EXISTS catalog_searchentry_fts_au",
    f"DROP TABLE IF EXISTS {FTS}",
]
POSTGRES_FORWARD = [
    "CREATE INDEX IF NOT EXISTS catalog_searchentry_tsv_gin ON catalog_searchentry USING GIN ("
    "(setweight(to_tsvector('simple'::regconfig, name_tokens), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, tokens), 'B')))",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS catalog_searchentry_tsv_gin"]


def _run(schema_editor, statements_by_vendor):
    for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def forward(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD})


def backward(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
