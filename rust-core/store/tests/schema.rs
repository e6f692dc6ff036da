//! The tables, columns and indexes `schema/phonehome.sql` makes in rusqlite's SQLite, written
//! down in `tests/schema.txt`. The app's Robolectric test (`RecordStoreTest`) creates its
//! store from the same file with android.database.sqlite and compares it with that text, so
//! a difference between the two readers of the schema fails one of the two tests.
//! `PHONEHOME_BLESS=1 cargo test -p phonehome-store --test schema` rewrites the file.

use std::path::PathBuf;

use phonehome_store::sqlite::{Store, FILE_NAME};
use rusqlite::Connection;

/// One line per table, column and index, in name order; SQLite's and Android's own tables
/// (`sqlite_sequence`, `android_metadata`) are left out. The app's test writes the same.
fn describe(db: &Connection) -> rusqlite::Result<String> {
    let mut out = String::new();
    let names: Vec<(String, String, String)> = db
        .prepare(
            "SELECT type, name, tbl_name FROM sqlite_master
             WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'
               AND name != 'android_metadata'
             ORDER BY type DESC, name",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (kind, name, table) in names {
        if kind == "table" {
            out.push_str(&format!("table {name}\n"));
            let mut columns = db.prepare(&format!("PRAGMA table_info({name})"))?;
            let rows = columns.query_map([], |r| {
                Ok(format!(
                    "  column {} {} notnull={} pk={}\n",
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(5)?,
                ))
            })?;
            for row in rows {
                out.push_str(&row?);
            }
        } else {
            let mut columns = db.prepare(&format!("PRAGMA index_info({name})"))?;
            let cols: Vec<String> = columns
                .query_map([], |r| r.get(2))?
                .collect::<Result<_, _>>()?;
            out.push_str(&format!("index {name} on {table} ({})\n", cols.join(", ")));
        }
    }
    Ok(out)
}

fn expected() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schema.txt")
}

#[test]
fn the_schema_file_makes_the_tables_written_down_for_the_app() {
    let dir = std::env::temp_dir().join(format!("phonehome-schema-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&dir.join(FILE_NAME), 0).unwrap();
    let have = describe(store.connection()).unwrap();
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        have.contains("table findings\n  column id INTEGER notnull=0 pk=1\n"),
        "{have}"
    );
    if std::env::var_os("PHONEHOME_BLESS").is_some() {
        std::fs::write(expected(), &have).unwrap();
    }
    let want = std::fs::read_to_string(expected()).unwrap_or_default();
    assert!(
        have == want,
        "tests/schema.txt is stale: run PHONEHOME_BLESS=1 cargo test -p phonehome-store --test schema\n{have}"
    );
}

#[test]
fn every_statement_ends_a_line_and_comments_are_whole_lines() {
    // The app splits the file on `;` at line ends and drops `--` lines (RecordStore.statements):
    // a statement sharing a line with another, or a comment after code, would break that.
    for line in phonehome_store::sqlite::SCHEMA.lines() {
        let code = line.trim();
        if code.starts_with("--") {
            continue;
        }
        assert!(!code.contains("--"), "comment after code: {line}");
        if let Some(i) = code.find(';') {
            assert_eq!(i, code.len() - 1, "a statement must end its line: {line}");
        }
    }
}
