package org.phonehome.app

import android.content.Context
import android.database.sqlite.SQLiteDatabase
import android.database.sqlite.SQLiteOpenHelper
import android.database.sqlite.SQLiteStatement
import java.io.OutputStream
import org.phonehome.model.Discovered
import org.phonehome.model.Finding
import org.phonehome.model.Flow
import org.phonehome.model.Json
import org.phonehome.model.JsonException

/**
 * Narrows a query; null means any. `kind` and `direction` apply to findings only
 * ([Finding.SENT] for what the phone sent, [Finding.RECEIVED] for what servers sent back);
 * `flow` is the flow's id.
 */
data class RecordFilter(
    val app: String? = null,
    val host: String? = null,
    val kind: String? = null,
    val session: Long? = null,
    val flow: Long? = null,
    val direction: String? = null,
)

/**
 * Every flow and finding the core sent ([org.phonehome.core.CoreHost.onRecords]), kept in
 * SQLite through android.database.sqlite in the app's private databases folder. The tables
 * come from the schema file `phonehome watch` uses too (the asset `phonehome.sql`, which is
 * rust-core/store/schema/phonehome.sql), and each row keeps its record's JSON line as the
 * core wrote it: queries and exports return that line.
 *
 * One instance per process ([PhoneHomeApp.records]): the core's event thread writes one
 * transaction per batch while the worker thread reads; in WAL mode readers never wait for
 * the writer. [name] null keeps the database in memory (tests).
 */
class RecordStore(
    context: Context,
    name: String? = FILE_NAME,
    private val schema: () -> String = assetReader(context.applicationContext),
) : SQLiteOpenHelper(context.applicationContext, name, null, VERSION) {
    companion object {
        const val FILE_NAME = "records.sqlite"
        const val SCHEMA_ASSET = "phonehome.sql"

        /** Rows a page may hold at most. */
        const val MAX_PAGE = 10_000

        // 1: the schema of rust-core/store/schema/phonehome.sql as first shipped.
        // 2: findings.layers (the wrappings a value was found inside).
        // 3: company, parent, party in flows and findings (the company behind a destination).
        // 4: the discovered table (identifiers nobody configured), made by onCreate.
        // 5: tls in flows and findings (what TLS interception did with the flow).
        // 6: domain in flows and findings (the registrable domain of the host, from the core).
        private const val VERSION = 6

        /** Columns added since version 1, which `CREATE TABLE IF NOT EXISTS` cannot add: table, column, type. */
        private val ADDED_COLUMNS = listOf(
            Triple("findings", "layers", "TEXT"),
            Triple("flows", "company", "TEXT"),
            Triple("flows", "parent", "TEXT"),
            Triple("flows", "party", "TEXT"),
            Triple("findings", "company", "TEXT"),
            Triple("findings", "parent", "TEXT"),
            Triple("findings", "party", "TEXT"),
            Triple("flows", "tls", "TEXT"),
            Triple("findings", "tls", "TEXT"),
            Triple("flows", "domain", "TEXT"),
            Triple("findings", "domain", "TEXT"),
        )

        private fun assetReader(context: Context): () -> String = {
            context.assets.open(SCHEMA_ASSET).bufferedReader().use { it.readText() }
        }

        /**
         * The statements of the schema file, one each (SQLiteDatabase.execSQL runs one at a
         * time): `--` lines are comments and a statement ends with `;` at the end of a line.
         * PRAGMA lines are left out: they set the connection, which Android manages itself
         * (WAL through [setWriteAheadLoggingEnabled], its own sync mode); the file says so.
         */
        fun statements(sql: String): List<String> {
            val out = mutableListOf<String>()
            val current = StringBuilder()
            for (line in sql.lines()) {
                val code = line.trim()
                if (code.isEmpty() || code.startsWith("--")) continue
                current.append(line).append('\n')
                if (code.endsWith(";")) {
                    val statement = current.toString().trim()
                    current.setLength(0)
                    if (!statement.startsWith("PRAGMA", ignoreCase = true)) out.add(statement)
                }
            }
            require(current.isBlank()) { "the schema ends inside a statement: $current" }
            return out
        }

        fun checkPage(offset: Int, limit: Int) {
            require(offset >= 0 && limit in 1..MAX_PAGE) {
                "page limit must be 1 to $MAX_PAGE, offset 0 or more (got offset $offset, limit $limit)"
            }
        }
    }

    init {
        setWriteAheadLoggingEnabled(true)
    }

    override fun onCreate(db: SQLiteDatabase) {
        for (statement in statements(schema())) db.execSQL(statement)
    }

    // The schema only creates what is missing (IF NOT EXISTS); columns added since go in by ALTER TABLE,
    // last, as rust-core/store adds them to a store `phonehome watch` made before.
    override fun onUpgrade(db: SQLiteDatabase, oldVersion: Int, newVersion: Int) {
        onCreate(db)
        for ((table, column, type) in ADDED_COLUMNS) {
            val present = db.rawQuery("PRAGMA table_info($table)", null).use { c ->
                generateSequence { if (c.moveToNext()) c.getString(1) else null }.any { it == column }
            }
            if (!present) db.execSQL("ALTER TABLE $table ADD COLUMN $column $type")
        }
    }

    /**
     * What one batch added: its flows, its findings (parsed, for notifications), its
     * discovered identifiers, lines that were not records.
     */
    data class Inserted(val flows: Int, val findings: List<Finding>, val skipped: Int, val discovered: Int = 0)

    /**
     * Stores one batch of session [session] in one transaction: [flowsJsonl],
     * [findingsJsonl] and [discoveredJsonl] are JSON lines as flows.jsonl, findings.jsonl
     * and discovered.jsonl have them. A flow already stored (same session and id) is
     * replaced, and so is a discovered value (its newest sums win); a line that is not a
     * record is skipped and counted. Nothing of the batch is stored if the transaction fails.
     */
    fun insertBatch(session: Long, flowsJsonl: String, findingsJsonl: String, discoveredJsonl: String = ""): Inserted {
        val db = writableDatabase
        var flows = 0
        var discovered = 0
        var skipped = 0
        val findings = mutableListOf<Finding>()
        db.beginTransaction()
        try {
            db.compileStatement(
                "INSERT OR REPLACE INTO flows (session, id, proto, src, dst, app, host, host_source, vendor, " +
                    "category, service, bytes_out, bytes_in, start_ms, end_ms, close, json, company, parent, party, tls, " +
                    "domain) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ).use { insert ->
                for (line in records(flowsJsonl)) {
                    val f = parse(line) { Flow.fromJson(it) }
                    if (f == null) {
                        skipped++
                        continue
                    }
                    insert.bindAll(
                        session, f.flow, f.proto, f.src, f.dst, f.app, f.host, f.hostSource, f.company,
                        f.category, f.service, f.bytesOut, f.bytesIn, f.start, f.end, f.close, line,
                        f.company, f.parent, f.party, f.tls, f.domain,
                    )
                    insert.executeInsert()
                    flows++
                }
            }
            db.compileStatement(
                "INSERT INTO findings (session, ts_ms, flow, app, proto, dst, host, host_source, vendor, " +
                    "category, kind, encoding, digest_form, truncated, place, direction, confidence, " +
                    "evidence, bytes_out, bytes_in, json, layers, company, parent, party, tls, domain) " +
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ).use { insert ->
                for (line in records(findingsJsonl)) {
                    val f = parse(line) { Finding.fromJson(it) }
                    if (f == null) {
                        skipped++
                        continue
                    }
                    insert.bindAll(
                        session, f.ts, f.flow, f.app, f.proto, f.dst, f.host, f.hostSource, f.company,
                        f.category, f.kind, f.encoding, f.digestForm, if (f.truncated) 1L else 0L, f.where,
                        f.direction, f.confidence, f.evidence, f.bytesOut, f.bytesIn, line,
                        f.layers.takeIf { it.isNotEmpty() }?.let { Json.strings(it).toString() },
                        f.company, f.parent, f.party, f.tls, f.domain,
                    )
                    val id = insert.executeInsert()
                    findings.add(f.copy(id = id, session = session))
                }
            }
            // As rust-core/store's upsert_discovered writes it: lists comma-separated.
            db.compileStatement(
                "INSERT OR REPLACE INTO discovered (value, shape, keys, apps, domains, first_ms, last_ms, " +
                    "flows, sessions, json) VALUES (?,?,?,?,?,?,?,?,?,?)",
            ).use { insert ->
                for (line in records(discoveredJsonl)) {
                    val d = parse(line) { Discovered.fromJson(it) }
                    if (d == null) {
                        skipped++
                        continue
                    }
                    insert.bindAll(
                        d.value, d.shape, d.keys.joinToString(","), d.apps.joinToString(","),
                        d.domains.joinToString(","), d.firstSeen, d.lastSeen, d.flows, d.sessions, line,
                    )
                    insert.executeInsert()
                    discovered++
                }
            }
            db.setTransactionSuccessful()
        } finally {
            db.endTransaction()
        }
        return Inserted(flows, findings, skipped, discovered)
    }

    /** Every discovered identifier, the most recently seen first. */
    fun discovered(limit: Int = MAX_PAGE): List<Discovered> {
        checkPage(0, limit)
        val out = mutableListOf<Discovered>()
        readableDatabase.rawQuery("SELECT json FROM discovered ORDER BY last_ms DESC, value LIMIT $limit", null).use { c ->
            while (c.moveToNext()) parse(c.getString(0)) { Discovered.fromJson(it) }?.let { out.add(it) }
        }
        return out
    }

    private fun records(jsonl: String): Sequence<String> = jsonl.lineSequence().filter { it.isNotBlank() }

    private fun <T> parse(line: String, read: (Json) -> T?): T? = try {
        read(Json.parse(line))
    } catch (_: JsonException) {
        null
    }

    private fun SQLiteStatement.bindAll(vararg values: Any?) {
        clearBindings()
        values.forEachIndexed { i, v ->
            when (v) {
                null -> bindNull(i + 1)
                is Long -> bindLong(i + 1, v)
                is Int -> bindLong(i + 1, v.toLong())
                is String -> bindString(i + 1, v)
                else -> throw IllegalArgumentException("cannot store a ${v.javaClass.name}")
            }
        }
    }

    /** `WHERE` clause and its arguments (integers compare as numbers: the columns are INTEGER). */
    private fun where(filter: RecordFilter, findings: Boolean): Pair<String, Array<String>> {
        val terms = mutableListOf<String>()
        val args = mutableListOf<String>()
        fun add(column: String, value: Any?) {
            if (value == null) return
            terms.add("$column = ?")
            args.add(value.toString())
        }
        add("app", filter.app)
        add("host", filter.host)
        if (findings) add("kind", filter.kind)
        if (findings) add("direction", filter.direction)
        add("session", filter.session)
        add(if (findings) "flow" else "id", filter.flow)
        val clause = if (terms.isEmpty()) "" else "WHERE " + terms.joinToString(" AND ")
        return clause to args.toTypedArray()
    }

    /** One page of findings, newest first, each with its store `id` and `session`. */
    fun findings(filter: RecordFilter = RecordFilter(), offset: Int = 0, limit: Int = 100): List<Finding> {
        checkPage(offset, limit)
        val (clause, args) = where(filter, findings = true)
        // offset and limit are checked integers; SQLite wants integers there, not the text rawQuery binds.
        val sql = "SELECT json, id, session FROM findings $clause ORDER BY id DESC LIMIT $limit OFFSET $offset"
        val out = mutableListOf<Finding>()
        readableDatabase.rawQuery(sql, args).use { c ->
            while (c.moveToNext()) {
                parse(c.getString(0)) { Finding.fromJson(it) }?.let { out.add(it.copy(id = c.getLong(1), session = c.getLong(2))) }
            }
        }
        return out
    }

    /** One page of finished flows, the latest to end first, each with its `session`. */
    fun flows(filter: RecordFilter = RecordFilter(), offset: Int = 0, limit: Int = 100): List<Flow> {
        checkPage(offset, limit)
        val (clause, args) = where(filter, findings = false)
        val sql = "SELECT json, session FROM flows $clause ORDER BY end_ms DESC, session DESC, id DESC LIMIT $limit OFFSET $offset"
        val out = mutableListOf<Flow>()
        readableDatabase.rawQuery(sql, args).use { c ->
            while (c.moveToNext()) {
                parse(c.getString(0)) { Flow.fromJson(it) }?.let { out.add(it.copy(session = c.getLong(1))) }
            }
        }
        return out
    }

    /** Which records an export writes, in which order. */
    enum class Table(internal val sql: String) {
        FINDINGS("SELECT json FROM findings ORDER BY id"),
        FLOWS("SELECT json FROM flows ORDER BY session, start_ms, id"),
    }

    /**
     * Writes every row of [table] as its JSON line, oldest first: the file `phonehome watch
     * --out` writes (findings.jsonl, flows.jsonl). Returns the bytes written; [out] stays open.
     */
    fun exportJsonl(table: Table, out: OutputStream): Long {
        var written = 0L
        readableDatabase.rawQuery(table.sql, null).use { c ->
            while (c.moveToNext()) {
                val bytes = (c.getString(0) + "\n").toByteArray(Charsets.UTF_8)
                out.write(bytes)
                written += bytes.size
            }
        }
        out.flush()
        return written
    }
}
