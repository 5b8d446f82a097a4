"""Search indexes for contacts and companies (see flowcrm/contacts/search.py).

SQLite: FTS5 tables kept current by triggers (a database-level mechanism, so bulk inserts and
raw SQL are indexed too). PostgreSQL: GIN indexes on tsvector expressions (always current).
"""

from django.db import migrations

# Keep in step with flowcrm.contacts.search (PG_*_DOCUMENT, SQLITE_PHONE_TOKENS).
SQLITE_PHONE = (
    "CASE WHEN {p} = '' THEN '' ELSE ltrim({p}, '+') || ' ' || substr(ltrim({p}, '+'), 2)"
    " || ' ' || substr(ltrim({p}, '+'), 3) || ' ' || substr(ltrim({p}, '+'), 4) END"
)
SQLITE_COMPANY_OF = (
    "coalesce((SELECT co.name || ' ' || co.domain FROM contacts_company co"
    " WHERE co.id = new.company_id), '')"
)
SQLITE_INSERT_CONTACT = (
    "INSERT INTO contacts_contact_search(rowid, name, email, phone, company) VALUES ("
    "new.id, new.first_name || ' ' || new.last_name, coalesce(new.email, ''), "
    + SQLITE_PHONE.format(p="new.phone")
    + ", "
    + SQLITE_COMPANY_OF
    + ");"
)

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE contacts_contact_search USING fts5("
    "name, email, phone, company, tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE VIRTUAL TABLE contacts_company_search USING fts5("
    "name, domain, tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER contacts_contact_search_ins AFTER INSERT ON contacts_contact BEGIN "
    + SQLITE_INSERT_CONTACT
    + " END",
    "CREATE TRIGGER contacts_contact_search_upd AFTER UPDATE OF "
    "first_name, last_name, email, phone, company_id ON contacts_contact BEGIN "
    "DELETE FROM contacts_contact_search WHERE rowid = old.id; "
    + SQLITE_INSERT_CONTACT
    + " END",
    "CREATE TRIGGER contacts_contact_search_del AFTER DELETE ON contacts_contact BEGIN "
    "DELETE FROM contacts_contact_search WHERE rowid = old.id; END",
    "CREATE TRIGGER contacts_company_search_ins AFTER INSERT ON contacts_company BEGIN "
    "INSERT INTO contacts_company_search(rowid, name, domain) "
    "VALUES (new.id, new.name, new.domain); END",
    "CREATE TRIGGER contacts_company_search_upd AFTER UPDATE OF name, domain "
    "ON contacts_company BEGIN "
    "DELETE FROM contacts_company_search WHERE rowid = old.id; "
    "INSERT INTO contacts_company_search(rowid, name, domain) "
    "VALUES (new.id, new.name, new.domain); "
    "UPDATE contacts_contact_search SET company = new.name || ' ' || new.domain "
    "WHERE rowid IN (SELECT id FROM contacts_contact WHERE company_id = new.id); END",
    "CREATE TRIGGER contacts_company_search_del AFTER DELETE ON contacts_company BEGIN "
    "DELETE FROM contacts_company_search WHERE rowid = old.id; END",
    # Rows that existed before this migration.
    "INSERT INTO contacts_company_search(rowid, name, domain) "
    "SELECT id, name, domain FROM contacts_company",
    "INSERT INTO contacts_contact_search(rowid, name, email, phone, company) "
    "SELECT c.id, c.first_name || ' ' || c.last_name, coalesce(c.email, ''), "
    + SQLITE_PHONE.format(p="c.phone")
    + ", coalesce(co.name || ' ' || co.domain, '') "
    "FROM contacts_contact c LEFT JOIN contacts_company co ON co.id = c.company_id",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS contacts_contact_search_ins",
    "DROP TRIGGER IF EXISTS contacts_contact_search_upd",
    "DROP TRIGGER IF EXISTS contacts_contact_search_del",
    "DROP TRIGGER IF EXISTS contacts_company_search_ins",
    "DROP TRIGGER IF EXISTS contacts_company_search_upd",
    "DROP TRIGGER IF EXISTS contacts_company_search_del",
    "DROP TABLE IF EXISTS contacts_contact_search",
    "DROP TABLE IF EXISTS contacts_company_search",
]

PG_CONTACT_DOCUMENT = (
    "to_tsvector('simple'::regconfig, "
    "coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || "
    "translate(coalesce(email, ''), '@.+_-', '     ') || ' ' || "
    "ltrim(phone, '+') || ' ' || substr(ltrim(phone, '+'), 2) || ' ' || "
    "substr(ltrim(phone, '+'), 3) || ' ' || substr(ltrim(phone, '+'), 4))"
)
PG_COMPANY_DOCUMENT = (
    "to_tsvector('simple'::regconfig, "
    "coalesce(name, '') || ' ' || translate(coalesce(domain, ''), '.-', '  '))"
)
PG_FORWARD = [
    f"CREATE INDEX IF NOT EXISTS contact_search_idx ON contacts_contact USING gin ({PG_CONTACT_DOCUMENT})",
    f"CREATE INDEX IF NOT EXISTS company_search_idx ON contacts_company USING gin ({PG_COMPANY_DOCUMENT})",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS contact_search_idx",
    "DROP INDEX IF EXISTS company_search_idx",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
        )
    ]
