"""What a PostgreSQL database holds, read one way for every use: the catalog drift compares, the
schema fingerprint and the data snapshot a backup records, and the check a restore runs on itself.

Everything here is SQL text built for a scope (the schemas a backup covers, the first one being the
URL's), so that Python (through pg8000) and the restore transaction (in PL/pgSQL, before it
commits) compute exactly the same values. Names: a table of the URL's schema is keyed by its bare
name (`User`), any other by its quoted, qualified name (`auth.users`, `auth."Session"`); a bare key
never holds a dot, a qualified one always does, so the two never collide.

Objects that belong to an extension (pgcrypto's functions, citext's type) are left out: extensions
are installed by an administrator, dumped by no schema dump, and compared separately (name, version,
schema). What the fingerprint covers: tables (kind, persistence, row level security, partition
bounds, options), columns (position among the live ones, type, nullability, default, identity,
generated, collation), indexes, constraints (also domains'), enums (labels in order), domains,
composite and range types, views and materialized views, functions, procedures and aggregates
(their whole definition), triggers (and whether enabled), policies, rules, sequences (their
parameters and owner column; their values are data), extended statistics, comments, owners and
privileges. Not covered: the schemas' own owner, comment and privileges (faber-db creates a missing
schema but does not alter an existing one), default privileges, and object kinds that need a
superuser to create (operators classes, text search parsers). Definitions are rendered with an
empty search_path, so every name in them is schema-qualified.
"""

from __future__ import annotations

from collections.abc import Sequence

from faber_db.engines.model import DataSnapshot, Queryable, quote_ident, quote_literal

SNAPSHOT_FORMAT = "pg-catalog-v2"

# Drift compares the shape; comments, owners and privileges are left to the fingerprint.
SHAPE_KINDS = frozenset({
    "table", "column", "index", "constraint", "enum", "type", "view", "materialized view", "function",
    "procedure", "aggregate", "window function", "trigger", "policy", "rule", "sequence", "statistics",
})

# Settings that change a row's text form or a definition's rendering, pinned for the transaction.
PIN_SETTINGS = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, MDY'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 1",
    "SET LOCAL bytea_output = 'hex'",
    "SET LOCAL lc_monetary = 'C'",
    # A forced policy would hide rows from the owner: fail as pg_dump does, rather than miscount.
    "SET LOCAL row_security = off",
    # A role's statement_timeout guards the application's queries; a checksum pass must finish.
    "SET LOCAL statement_timeout = 0",
    "SELECT set_config('search_path', '', true)",
)

_NOT_EXTENSION_MEMBER = ("NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass "
                         "AND e.objid = {oid} AND e.deptype = 'e')")


def _member_free(catalog: str, oid: str) -> str:
    return _NOT_EXTENSION_MEMBER.format(catalog=catalog, oid=oid)


def schemas_literal(schemas: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join(quote_literal(s) for s in schemas) + "]::text[]"


def key_sql(schema: str, name: str, primary: str) -> str:
    """SQL for the key of object `name` in `schema` (both SQL expressions)."""
    return (f"(CASE WHEN {schema} = {quote_literal(primary)} AND strpos({name}::text, '.') = 0 "
            f"THEN {name}::text ELSE quote_ident({schema}) || '.' || quote_ident({name}) END)")


def scope_sql(schemas: Sequence[str]) -> str:
    """The schemas of `schemas` that exist, in the given order."""
    return (f"SELECT s FROM unnest({schemas_literal(schemas)}) WITH ORDINALITY AS u(s, i) "
            "WHERE EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = s) ORDER BY i")


def _relations(schemas: Sequence[str], primary: str) -> str:
    return (
        "SELECT c.oid, c.relkind, c.relname, n.nspname, c.relowner, c.relacl, c.relrowsecurity, "
        "c.relforcerowsecurity, c.relpersistence, c.reloptions, c.relispartition, c.relpartbound, "
        f"c.relispopulated, {key_sql('n.nspname', 'c.relname', primary)} AS key "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = ANY({schemas_literal(schemas)}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
        f"AND {_member_free('pg_class', 'c.oid')}"
    )


def _types(schemas: Sequence[str], primary: str) -> str:
    return (
        f"SELECT t.oid, t.typname, t.typtype, t.typowner, t.typacl, n.nspname, "
        f"{key_sql('n.nspname', 't.typname', primary)} AS key "
        "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        f"WHERE n.nspname = ANY({schemas_literal(schemas)}) AND t.typtype IN ('e', 'd', 'r', 'c') "
        "AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') "
        f"AND {_member_free('pg_type', 't.oid')}"
    )


def _routines(schemas: Sequence[str], primary: str) -> str:
    return (
        "SELECT p.oid, p.prokind, p.proowner, p.proacl, "
        f"{key_sql('n.nspname', 'p.proname', primary)} || '(' || pg_get_function_identity_arguments(p.oid) "
        "|| ')' AS key FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        f"WHERE n.nspname = ANY({schemas_literal(schemas)}) AND {_member_free('pg_proc', 'p.oid')}"
    )


def catalog_sql(schemas: Sequence[str], primary: str) -> str:
    """Rows (kind, parent, name, definition) describing every object of `schemas`."""
    scope = schemas_literal(schemas)
    parts = [
        # tables
        "SELECT 'table', r.key, r.key, concat_ws(' ', CASE r.relkind WHEN 'p' THEN 'partitioned table' "
        "WHEN 'f' THEN 'foreign table' ELSE 'table' END, CASE WHEN r.relpersistence = 'u' THEN 'unlogged' END, "
        "CASE WHEN r.relrowsecurity THEN 'row level security' END, "
        "CASE WHEN r.relforcerowsecurity THEN 'forced' END, "
        "CASE WHEN r.relispartition THEN 'partition ' || pg_get_expr(r.relpartbound, r.oid) END, "
        "'(' || array_to_string(r.reloptions, ', ') || ')') FROM rel r WHERE r.relkind IN ('r', 'p', 'f')",
        # columns, by position among the live ones (a restore renumbers after dropped columns)
        "SELECT 'column', r.key, a.attname::text, concat_ws(' ', format_type(a.atttypid, a.atttypmod), "
        "CASE WHEN a.attnotnull THEN 'NOT NULL' END, "
        "CASE WHEN a.attgenerated = '' THEN 'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) END, "
        "CASE WHEN a.attgenerated = 's' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) "
        "|| ') STORED' END, "
        "CASE a.attidentity WHEN 'a' THEN 'GENERATED ALWAYS AS IDENTITY' "
        "WHEN 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY' END, "
        "CASE WHEN a.attcollation <> t.typcollation THEN 'COLLATE ' || "
        "(SELECT quote_ident(collname) FROM pg_collation WHERE oid = a.attcollation) END, "
        "'#' || row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)) "
        "FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "JOIN pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE r.relkind IN ('r', 'p', 'f')",
        "SELECT 'index', r.key, i.relname::text, pg_get_indexdef(i.oid) || "
        "CASE WHEN x.indisvalid THEN '' ELSE ' (invalid)' END "
        "FROM rel r JOIN pg_index x ON x.indrelid = r.oid JOIN pg_class i ON i.oid = x.indexrelid",
        "SELECT 'constraint', r.key, k.conname::text, pg_get_constraintdef(k.oid) "
        "FROM rel r JOIN pg_constraint k ON k.conrelid = r.oid",
        "SELECT 'constraint', ty.key, k.conname::text, pg_get_constraintdef(k.oid) "
        "FROM typ ty JOIN pg_constraint k ON k.contypid = ty.oid",
        "SELECT 'enum', ty.key, ty.key, (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) "
        "FROM pg_enum e WHERE e.enumtypid = ty.oid) FROM typ ty WHERE ty.typtype = 'e'",
        "SELECT 'type', ty.key, ty.key, CASE ty.typtype "
        "WHEN 'd' THEN concat_ws(' ', 'domain', format_type(t.typbasetype, t.typtypmod), "
        "CASE WHEN t.typnotnull THEN 'NOT NULL' END, 'DEFAULT ' || t.typdefault) "
        "WHEN 'r' THEN 'range of ' || (SELECT format_type(rngsubtype, NULL) FROM pg_range WHERE rngtypid = ty.oid) "
        "ELSE 'composite (' || (SELECT string_agg(quote_ident(a.attname) || ' ' || "
        "format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) FROM pg_attribute a "
        "WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) || ')' END "
        "FROM typ ty JOIN pg_type t ON t.oid = ty.oid WHERE ty.typtype IN ('d', 'r', 'c')",
        "SELECT CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, r.key, r.key, "
        "pg_get_viewdef(r.oid) || coalesce(' (' || array_to_string(r.reloptions, ', ') || ')', '') || "
        "CASE WHEN r.relkind = 'm' AND NOT r.relispopulated THEN ' (not populated)' ELSE '' END "
        "FROM rel r WHERE r.relkind IN ('v', 'm')",
        "SELECT 'sequence', r.key, r.key, concat_ws(' ', format_type(s.seqtypid, NULL), "
        "'start', s.seqstart, 'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax, "
        "'cache', s.seqcache, CASE WHEN s.seqcycle THEN 'cycle' END, "
        "(SELECT CASE d.deptype WHEN 'i' THEN 'identity of ' ELSE 'owned by ' END || o.key || '.' || "
        "quote_ident(a.attname) FROM pg_depend d JOIN rel o ON o.oid = d.refobjid "
        "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
        "WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass "
        "AND d.deptype IN ('a', 'i'))) "
        "FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid WHERE r.relkind = 'S'",
        "SELECT CASE f.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window function' "
        "ELSE 'function' END, f.key, f.key, CASE WHEN f.prokind = 'a' THEN (SELECT concat_ws(' ', "
        "aggtransfn::regproc::text, format_type(aggtranstype, NULL), aggfinalfn::regproc::text, agginitval) "
        "FROM pg_aggregate WHERE aggfnoid = f.oid) ELSE pg_get_functiondef(f.oid) END FROM fn f",
        "SELECT 'trigger', r.key, g.tgname::text, pg_get_triggerdef(g.oid) || CASE g.tgenabled "
        "WHEN 'D' THEN ' (disabled)' WHEN 'R' THEN ' (replica)' WHEN 'A' THEN ' (always)' ELSE '' END "
        "FROM rel r JOIN pg_trigger g ON g.tgrelid = r.oid WHERE NOT g.tgisinternal",
        "SELECT 'policy', r.key, p.polname::text, concat_ws(' ', CASE WHEN p.polpermissive THEN 'permissive' "
        "ELSE 'restrictive' END, 'for', CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' "
        "WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END, 'to', "
        "(SELECT string_agg(CASE WHEN x = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(x)) END, ',' "
        "ORDER BY 1) FROM unnest(p.polroles) AS x), 'using (' || pg_get_expr(p.polqual, p.polrelid) || ')', "
        "'with check (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')') "
        "FROM rel r JOIN pg_policy p ON p.polrelid = r.oid",
        "SELECT 'rule', r.key, w.rulename::text, pg_get_ruledef(w.oid) FROM rel r "
        "JOIN pg_rewrite w ON w.ev_class = r.oid WHERE w.rulename <> '_RETURN'",
        f"SELECT 'statistics', {key_sql('n.nspname', 'x.stxname', primary)}, "
        f"{key_sql('n.nspname', 'x.stxname', primary)}, pg_get_statisticsobjdef(x.oid) "
        "FROM pg_statistic_ext x JOIN pg_namespace n ON n.oid = x.stxnamespace "
        f"WHERE n.nspname = ANY({scope})",
        # owners and privileges (a default ACL written out equals no ACL)
        "SELECT 'owner', r.key, 'relation', pg_get_userbyid(r.relowner)::text FROM rel r",
        "SELECT 'owner', ty.key, 'type', pg_get_userbyid(ty.typowner)::text FROM typ ty",
        "SELECT 'owner', f.key, 'routine', pg_get_userbyid(f.proowner)::text FROM fn f",
        "SELECT 'privileges', r.key, 'relation', array_to_string(ARRAY(SELECT unnest(coalesce(r.relacl, "
        "acldefault((CASE r.relkind WHEN 'S' THEN 's' ELSE 'r' END)::\"char\", r.relowner)))::text ORDER BY 1), ',') "
        "FROM rel r",
        "SELECT 'privileges', r.key, a.attname::text, array_to_string(ARRAY(SELECT unnest(a.attacl)::text "
        "ORDER BY 1), ',') FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 "
        "AND NOT a.attisdropped WHERE a.attacl IS NOT NULL AND cardinality(a.attacl) > 0",
        "SELECT 'privileges', ty.key, 'type', array_to_string(ARRAY(SELECT unnest(coalesce(ty.typacl, "
        "acldefault('T', ty.typowner)))::text ORDER BY 1), ',') FROM typ ty",
        "SELECT 'privileges', f.key, 'routine', array_to_string(ARRAY(SELECT unnest(coalesce(f.proacl, "
        "acldefault('f', f.proowner)))::text ORDER BY 1), ',') FROM fn f",
        # comments on anything of the scope but the schemas themselves
        "SELECT 'comment', o.type || ' ' || o.identity, '', d.description FROM pg_description d "
        "CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) AS o "
        f"WHERE d.objoid >= 16384 AND o.schema = ANY({scope}) "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classoid AND e.objid = d.objoid "
        "AND e.deptype = 'e')",
    ]
    return (f"WITH rel AS ({_relations(schemas, primary)}), typ AS ({_types(schemas, primary)}), "
            f"fn AS ({_routines(schemas, primary)}) "
            "SELECT kind, parent, name, coalesce(definition, '') AS definition FROM ("
            + " UNION ALL ".join(parts) + ") AS catalog(kind, parent, name, definition)")


def fingerprint_sql(schemas: Sequence[str], primary: str) -> str:
    """One value: a hash over every catalog row, order-free (rows sorted with the C collation)."""
    return (f"SELECT {quote_literal(SNAPSHOT_FORMAT + ':')} || encode(sha256(convert_to(coalesce(string_agg("
            "kind || E'\\x1f' || parent || E'\\x1f' || name || E'\\x1f' || definition, E'\\x1e' "
            "ORDER BY kind COLLATE \"C\", parent COLLATE \"C\", name COLLATE \"C\", definition COLLATE \"C\"), ''), "
            f"'UTF8')), 'hex') FROM ({catalog_sql(schemas, primary)}) AS c")


def tables_sql(schemas: Sequence[str], primary: str, relkind: str = "r") -> str:
    """Rows (key, schema, name) of the scope's tables (relkind r: partitions hold the rows, their
    parents none; materialized views are derived data) or sequences (relkind S)."""
    return (f"SELECT {key_sql('n.nspname', 'c.relname', primary)} AS key, n.nspname::text AS nspname, "
            "c.relname::text AS relname "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = ANY({schemas_literal(schemas)}) AND c.relkind = {quote_literal(relkind)} "
            f"AND {_member_free('pg_class', 'c.oid')} ORDER BY 1")


EXTENSIONS_SQL = ("SELECT x.extname::text, x.extversion || '@' || n.nspname FROM pg_extension x "
                  "JOIN pg_namespace n ON n.oid = x.extnamespace ORDER BY 1")

# per table: a row count, and the sum of a 64-bit hash of each row's text (an order-free checksum)
_TABLE_SUMS = ("SELECT {index}, count(*), coalesce(sum(hashtextextended((faber_row.*)::text, 0)), 0) "
               "FROM ONLY {table} AS faber_row")
_SEQUENCE_STATE = "SELECT {index}, last_value::text || ':' || is_called::text FROM {sequence}"


def _qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def snapshot(db: Queryable, schemas: Sequence[str], primary: str, *, read_sequences: bool = True) -> DataSnapshot:
    """The scope's data snapshot. Run it inside one transaction with PIN_SETTINGS applied, so that
    every part sees the same state and renders the same text."""
    snap = DataSnapshot(schema_hash=str(db.query(fingerprint_sql(schemas, primary))[0][0]),
                        sequences={} if read_sequences else None,
                        extensions={str(k): str(v) for k, v in db.query(EXTENSIONS_SQL)})
    tables = db.query(tables_sql(schemas, primary))
    # one round trip per 100 tables, not one per table (a 50-table schema: 1 query instead of 50)
    for start in range(0, len(tables), 100):
        chunk = tables[start:start + 100]
        sql = " UNION ALL ".join(_TABLE_SUMS.format(index=i, table=_qualified(str(s), str(n)))
                                 for i, (_, s, n) in enumerate(chunk))
        for index, count, total in db.query(sql):
            key = str(chunk[int(index)][0])
            snap.tables[key] = int(count)
            snap.checksums[key] = f"{int(count)}:{int(total)}"
    if snap.sequences is not None:
        sequences = db.query(tables_sql(schemas, primary, "S"))
        for start in range(0, len(sequences), 100):
            chunk = sequences[start:start + 100]
            sql = " UNION ALL ".join(_SEQUENCE_STATE.format(index=i, sequence=_qualified(str(s), str(n)))
                                     for i, (_, s, n) in enumerate(chunk))
            for index, state in db.query(sql):
                snap.sequences[str(chunk[int(index)][0])] = str(state)
    return snap


def verification_block(expected: DataSnapshot, schemas: Sequence[str], primary: str) -> str:
    """A DO block that computes the snapshot inside the restore's transaction and raises (which
    rolls everything back) unless it equals `expected` in every part `expected` records. On
    success it reports the snapshot as a WARNING line `faber-db-snapshot {json}`; on a mismatch the
    error is `faber-db-verify {json}`. Extensions are compared by the names `expected` lists."""
    import json

    recorded = {k: v for k, v in expected.to_dict().items() if v is not None}
    if not expected.schema_hash.startswith(SNAPSHOT_FORMAT + ":"):
        recorded.pop("schema_hash", None)  # a fingerprint of an older format: not comparable
    pins = "\n  ".join(f"EXECUTE {quote_literal(setting)};" for setting in PIN_SETTINGS)
    return f"""DO $faber_verify$
DECLARE
  faber_expected jsonb := {quote_literal(json.dumps(recorded, sort_keys=True))}::jsonb;
  faber_r record;
  faber_n bigint;
  faber_h numeric;
  faber_v text;
  faber_tables jsonb := '{{}}';
  faber_sums jsonb := '{{}}';
  faber_seqs jsonb := '{{}}';
  faber_actual jsonb;
BEGIN
  SET LOCAL client_min_messages = warning;  -- the WARNING below is how the result gets out
  {pins}
  FOR faber_r IN {tables_sql(schemas, primary)} LOOP
    EXECUTE format('SELECT count(*), coalesce(sum(hashtextextended((faber_row.*)::text, 0)), 0) '
                   'FROM ONLY %I.%I AS faber_row', faber_r.nspname, faber_r.relname)
      INTO faber_n, faber_h;
    faber_tables := faber_tables || jsonb_build_object(faber_r.key, faber_n);
    faber_sums := faber_sums || jsonb_build_object(faber_r.key, faber_n::text || ':' || faber_h::text);
  END LOOP;
  FOR faber_r IN {tables_sql(schemas, primary, "S")} LOOP
    EXECUTE format('SELECT last_value::text || '':'' || is_called::text FROM %I.%I', faber_r.nspname,
                   faber_r.relname) INTO faber_v;
    faber_seqs := faber_seqs || jsonb_build_object(faber_r.key, faber_v);
  END LOOP;
  faber_actual := jsonb_build_object(
    'tables', faber_tables, 'checksums', faber_sums, 'sequences', faber_seqs,
    'schema_hash', ({fingerprint_sql(schemas, primary)}),
    'extensions', coalesce((SELECT jsonb_object_agg(e.name, e.state) FROM ({EXTENSIONS_SQL}) AS e(name, state)
                            WHERE faber_expected -> 'extensions' ? e.name), '{{}}'));
  faber_actual := (SELECT jsonb_object_agg(k, faber_actual -> k) FROM jsonb_object_keys(faber_expected) AS k);
  IF faber_actual IS DISTINCT FROM faber_expected THEN
    RAISE EXCEPTION 'faber-db-verify %', faber_actual::text;
  END IF;
  RAISE WARNING 'faber-db-snapshot %', faber_actual::text;
END
$faber_verify$;
"""
