package org.phonehome.app

import android.database.sqlite.SQLiteDatabase
import java.io.ByteArrayOutputStream
import java.io.File
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment

/**
 * The app's records store on real SQLite (Robolectric's native android.database.sqlite),
 * created from the schema asset of the app's aapt step, fed batches as the core sends them.
 */
@RunWith(RobolectricTestRunner::class)
class RecordStoreTest {
    private val context get() = RuntimeEnvironment.getApplication()
    private lateinit var store: RecordStore

    @Before
    fun open() {
        context.deleteDatabase(NAME)
        store = RecordStore(context, NAME)
    }

    @After
    fun close() {
        store.close()
        context.deleteDatabase(NAME)
    }

    companion object {
        const val NAME = "records-test.sqlite"

        fun finding(flow: Long, app: String?, kind: String, second: Int, host: String = "api.account.xiaomi.com", direction: String = "out") =
            """{"ts":"2026-12-02T10:00:${"%02d".format(second)}.000Z","flow":$flow,"app":${app?.let { "\"$it\"" } ?: "null"},""" +
                """"proto":"tcp","src":"10.111.0.2:40000","dst":"10.201.0.2:80","host":"$host","host_source":"dns",""" +
                """"company":"Xiaomi","category":"account","service":null,"kind":"$kind","encoding":"sha1",""" +
                """"digest_form":"base64url","truncated":true,"where":"url","direction":"$direction","confidence":"exact",""" +
                """"evidence":"imei=86**********0128"}"""

        fun flow(id: Long, app: String, endSecond: Int, close: String = "idle") =
            """{"flow":$id,"proto":"udp","src":"10.111.0.2:5000","dst":"10.111.0.1:53","bytes_out":40,"bytes_in":80,""" +
                """"start":"2026-12-02T10:00:00.000Z","end":"2026-12-02T10:00:${"%02d".format(endSecond)}.000Z",""" +
                """"close":"$close","app":"$app","host":null,"host_source":null,"company":null,"category":null,"service":null}"""

        /** A discovered.jsonl line as the core writes it (rust-core/model's Discovered). */
        fun discoveredLine(value: String, sessions: Int, lastSecond: Int, apps: String = "\"com.a\"") =
            """{"value":"$value","shape":"uuid","keys":["oaid","deviceid"],"apps":[$apps],""" +
                """"domains":["ads-one.test","metrics-two.test"],"hosts":["sdk.ads-one.test","log.metrics-two.test"],""" +
                """"first_seen":"2026-12-01T09:00:00.000Z","last_seen":"2026-12-02T10:00:${"%02d".format(lastSecond)}.000Z",""" +
                """"discovered":"2026-12-02T09:00:00.000Z","flows":7,"sessions":$sessions,"masked":"5f**********2e84"}"""

        fun jsonl(vararg lines: String) = lines.joinToString("") { "$it\n" }

        /** The repository, from the Maven module's folder (android-app/host-checks) upwards. */
        fun repo(): File = generateSequence(File(System.getProperty("user.dir")).absoluteFile) { it.parentFile }
            .first { File(it, "rust-core/store/schema/phonehome.sql").isFile }
    }

    /** Two sessions, as the app keeps them: flow ids repeat across sessions. */
    private fun twoSessions() {
        for (session in 1L..2L) {
            val s = session.toInt()
            store.insertBatch(
                session,
                jsonl(flow(1, "com.a", 30 + s)),
                jsonl(finding(1, "com.a", "imei", 10 + s), finding(1, "com.b", "imsi", 20 + s)),
            )
        }
    }

    @Test
    fun `the asset makes the tables and indexes rusqlite makes from the same file`() {
        // tests/schema.txt is what rust-core/store's test writes down from rusqlite's database.
        val want = File(repo(), "rust-core/store/tests/schema.txt").readText()
        assertEquals(want, describe(store.readableDatabase))
        val asset = context.assets.open(RecordStore.SCHEMA_ASSET).bufferedReader().use { it.readText() }
        assertEquals(File(repo(), "rust-core/store/schema/phonehome.sql").readText(), asset)
    }

    @Test
    fun `the store is a WAL database in the app's private databases folder`() {
        val db = store.writableDatabase
        val mode = db.rawQuery("PRAGMA journal_mode", null).use { it.moveToFirst(); it.getString(0) }
        assertEquals("wal", mode.lowercase())
        assertEquals(context.getDatabasePath(NAME).absolutePath, db.path)
    }

    @Test
    fun `the schema splits into its statements without the connection settings`() {
        val statements = RecordStore.statements(File(repo(), "rust-core/store/schema/phonehome.sql").readText())
        assertEquals(5, statements.size)
        assertTrue(statements.none { it.startsWith("PRAGMA", ignoreCase = true) || "--" in it })
        assertTrue(statements.all { it.endsWith(";") })
        assertThrows(IllegalArgumentException::class.java) { RecordStore.statements("CREATE TABLE t (a INTEGER)\n") }
    }

    @Test
    fun `a batch is stored in one go and its findings come back parsed with their ids`() {
        val inserted = store.insertBatch(
            7,
            jsonl(flow(1, "com.a", 5), flow(2, "com.a", 6)),
            jsonl(finding(1, "com.a", "imei", 1), "not json", finding(2, "com.a", "phone", 2)),
        )
        assertEquals(2, inserted.flows)
        assertEquals(1, inserted.skipped)
        assertEquals(listOf("imei", "phone"), inserted.findings.map { it.kind })
        assertEquals(listOf(1L, 2L), inserted.findings.map { it.id })
        assertTrue(inserted.findings.all { it.session == 7L })
        // A flow sent again (same session and id) replaces the first; another session's is kept.
        store.insertBatch(7, jsonl(flow(1, "com.a", 9, close = "closed")), "")
        store.insertBatch(8, jsonl(flow(1, "com.a", 9)), "")
        val flows = store.flows()
        assertEquals(3, flows.size)
        assertEquals("closed", flows.single { it.session == 7L && it.flow == 1L }.close)
        assertEquals(2, store.findings().size)
    }

    @Test
    fun `a discovered identifier is one row per value, replaced by its newest sums`() {
        val oaid = "5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84"
        val other = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
        val inserted = store.insertBatch(3, "", "", jsonl(discoveredLine(oaid, 3, 1), "{\"value\":\"\"}"))
        assertEquals(1, inserted.discovered)
        assertEquals(1, inserted.skipped)
        store.insertBatch(4, "", "", jsonl(discoveredLine(other, 3, 2), discoveredLine(oaid, 4, 9, apps = "\"com.a\",\"com.b\"")))
        val rows = store.discovered()
        assertEquals(listOf(oaid, other), rows.map { it.value })
        val newest = rows.first()
        assertEquals(4L, newest.sessions)
        assertEquals(listOf("com.a", "com.b"), newest.apps)
        assertEquals(listOf("ads-one.test", "metrics-two.test"), newest.domains)
        assertEquals(listOf("oaid", "deviceid"), newest.keys)
        // The columns hold what rust-core/store writes: lists comma-separated, times in ms.
        store.readableDatabase.rawQuery("SELECT apps, sessions, last_ms FROM discovered WHERE value = ?", arrayOf(oaid)).use { c ->
            c.moveToFirst()
            assertEquals("com.a,com.b", c.getString(0))
            assertEquals(4L, c.getLong(1))
            assertEquals(newest.lastSeen, c.getLong(2))
        }
    }

    @Test
    fun `a batch whose transaction fails leaves nothing behind`() {
        // A trigger refuses the batch's second finding: its flow and first finding must go too.
        store.insertBatch(1, jsonl(flow(1, "com.a", 5)), "")
        val db = store.writableDatabase
        db.execSQL("CREATE TRIGGER refuse BEFORE INSERT ON findings WHEN NEW.kind = 'sms' BEGIN SELECT RAISE(ABORT, 'refused'); END")
        assertThrows(android.database.SQLException::class.java) {
            store.insertBatch(1, jsonl(flow(2, "com.a", 6)), jsonl(finding(2, "com.a", "imei", 1), finding(2, "com.a", "sms", 2)))
        }
        assertEquals(listOf(1L), store.flows().map { it.flow })
        assertEquals(0, store.findings().size)
    }

    @Test
    fun `the lines the core sends fill every column the queries use`() {
        // Lines a real session sent (tests/e2e/test_jni.py's, curl sending the IMEI).
        val flowLine = """{"flow":2,"proto":"tcp","src":"[fd70:686f:6e65::2]:38570","dst":"[fd00:201::2]:80",""" +
            """"bytes_out":115,"bytes_in":202,"start":"2026-12-02T16:32:12.070Z","end":"2026-12-02T16:32:12.084Z",""" +
            """"close":"closed","app":"org.example.curl","host":"api.account.xiaomi.com","host_source":"http","domain":"xiaomi.com",""" +
            """"company":"Xiaomi","parent":null,"category":"cloud-messaging","service":"MIUI Cloud Messaging / Mi account",""" +
            """"party":"third"}"""
        val findingLine = """{"ts":"2026-12-02T16:32:12.071Z","flow":2,"app":"org.example.curl","proto":"tcp",""" +
            """"src":"[fd70:686f:6e65::2]:38570","dst":"[fd00:201::2]:80","host":"api.account.xiaomi.com",""" +
            """"host_source":"http","domain":"xiaomi.com","company":"Xiaomi","parent":null,"category":"cloud-messaging",""" +
            """"service":"MIUI Cloud Messaging / Mi account","party":"third","kind":"imei","encoding":"plain","digest_form":null,""" +
            """"truncated":false,"where":"url","direction":"out","confidence":"exact","evidence":"imei=86*********0128",""" +
            """"bytes_out":null,"bytes_in":null,"start":null,"end":null}"""
        store.insertBatch(1796229132000, "$flowLine\n", "$findingLine\n")
        fun row(sql: String): List<String?> = store.readableDatabase.rawQuery(sql, null).use { c ->
            assertTrue(c.moveToFirst())
            (0 until c.columnCount).map { if (c.isNull(it)) null else c.getString(it) }
        }
        assertEquals(
            listOf(
                "1796229132000", "2", "tcp", "[fd70:686f:6e65::2]:38570", "[fd00:201::2]:80", "org.example.curl",
                "api.account.xiaomi.com", "http", "Xiaomi", "cloud-messaging", "MIUI Cloud Messaging / Mi account",
                "115", "202", "1796229132070", "1796229132084", "closed", flowLine, "Xiaomi", null, "third", null,
                "xiaomi.com",
            ),
            row("SELECT * FROM flows"),
        )
        assertEquals(
            listOf(
                "1", "1796229132000", "1796229132071", "2", "org.example.curl", "tcp", "[fd00:201::2]:80",
                "api.account.xiaomi.com", "http", "Xiaomi", "cloud-messaging", "imei", "plain", null, "0", "url",
                "out", "exact", "imei=86*********0128", null, null, findingLine, null, "Xiaomi", null, "third", null,
                "xiaomi.com",
            ),
            row("SELECT * FROM findings"),
        )
    }

    @Test
    fun `a finding found inside wrappings keeps them as a JSON list in the last column`() {
        val line = finding(1, "com.a", "imei", 1).removeSuffix("}") + ""","layers":["hex","gzip"]}"""
        val inserted = store.insertBatch(1, "", jsonl(line))
        assertEquals(listOf("hex", "gzip"), inserted.findings.single().layers)
        assertEquals("sha1 (base64url, truncated) inside hex>gzip", inserted.findings.single().form)
        val stored = store.readableDatabase.rawQuery("SELECT layers FROM findings", null).use { c ->
            assertTrue(c.moveToFirst())
            c.getString(0)
        }
        assertEquals("""["hex","gzip"]""", stored)
    }

    @Test
    fun `an intercepted flow and its finding keep their tls mark in a column of their own`() {
        val flowLine = flow(7, "com.a", 3).removeSuffix("}") + ""","tls":"intercepted"}"""
        val findingLine = finding(7, "com.a", "imei", 3).removeSuffix("}") + ""","tls":"intercepted"}"""
        val pinned = flow(8, "com.bank", 4).removeSuffix("}") + ""","tls":"pinned"}"""
        val inserted = store.insertBatch(1, jsonl(flowLine, pinned), jsonl(findingLine))
        assertEquals("intercepted", inserted.findings.single().tls)
        fun column(sql: String) = store.readableDatabase.rawQuery(sql, null).use { c ->
            generateSequence { if (c.moveToNext()) c.getString(0) else null }.toList()
        }
        assertEquals(listOf("intercepted", "pinned"), column("SELECT tls FROM flows ORDER BY id"))
        assertEquals(listOf("intercepted"), column("SELECT tls FROM findings"))
        assertEquals("pinned", store.flows(RecordFilter(flow = 8), 0, 1).single().tls)
    }

    @Test
    fun `a store made by the first version gets the added columns and keeps its rows`() {
        store.close()
        context.deleteDatabase(NAME)
        // Version 1's tables: the schema file without the columns added since.
        val added = Regex("""\n    (layers|company|parent|party|tls|domain) TEXT,?(?=\n)""")
        val v1 = RecordStore.statements(File(repo(), "rust-core/store/schema/phonehome.sql").readText())
            .map { it.replace(added, "").replace(",\n)", "\n)") }
        assertTrue(v1.none { "layers" in it || "party" in it || "tls" in it || "domain TEXT" in it })
        val path = context.getDatabasePath(NAME).also { it.parentFile?.mkdirs() }
        SQLiteDatabase.openOrCreateDatabase(path, null).use { db ->
            v1.forEach { db.execSQL(it) }
            db.execSQL(
                "INSERT INTO findings (session, ts_ms, flow, proto, dst, kind, encoding, truncated, place, " +
                    "direction, confidence, evidence, json) VALUES (1, 1, 1, 'tcp', 'd', 'imei', 'plain', 0, 'url', " +
                    "'out', 'exact', 'e', '{}')",
            )
            db.version = 1
        }
        store = RecordStore(context, NAME)
        fun columns(table: String) = store.readableDatabase.rawQuery("PRAGMA table_info($table)", null).use { c ->
            generateSequence { if (c.moveToNext()) c.getString(1) else null }.toList()
        }
        assertEquals(listOf("layers", "company", "parent", "party", "tls", "domain"), columns("findings").takeLast(6))
        assertEquals(listOf("json", "company", "parent", "party", "tls", "domain"), columns("flows").takeLast(6))
        assertEquals(1, store.readableDatabase.rawQuery("SELECT COUNT(*) FROM findings", null).use { it.moveToFirst(); it.getInt(0) })
    }

    @Test
    fun `pages come newest first with their session and id`() {
        twoSessions()
        val all = store.findings(RecordFilter(), 0, 100)
        assertEquals(listOf(4L, 3L, 2L, 1L), all.map { it.id })
        assertEquals(2L, all[0].session)
        assertEquals("imsi", all[0].kind)
        assertEquals("url", all[0].where)
        assertEquals("sha1 (base64url, truncated)", all[0].form)
        assertEquals(all.subList(2, 4), store.findings(RecordFilter(), 2, 2))
        assertEquals(all.subList(1, 2), store.findings(RecordFilter(), 1, 1))
        assertEquals(emptyList<Any>(), store.findings(RecordFilter(), 4, 10))
        val flows = store.flows(RecordFilter(), 0, 10)
        assertEquals(listOf(2L, 1L), flows.map { it.session })
        assertEquals(listOf(1L, 1L), flows.map { it.flow })
    }

    @Test
    fun `filters narrow by app, host, kind, direction, session and flow`() {
        twoSessions()
        store.insertBatch(3, jsonl(flow(5, "com.c", 40)), jsonl(finding(5, "com.c", "imei", 40, host = "elsewhere.example")))
        store.insertBatch(3, "", jsonl(finding(6, "com.c", "email", 41, direction = "in")))
        fun findings(f: RecordFilter) = store.findings(f, 0, 100)
        assertEquals(listOf("com.b"), findings(RecordFilter(app = "com.b", session = 1)).map { it.app })
        assertEquals(3, findings(RecordFilter(kind = "imei")).size)
        assertEquals(1, findings(RecordFilter(host = "elsewhere.example")).size)
        assertEquals(2, findings(RecordFilter(flow = 1, session = 2)).size)
        assertEquals(1, store.flows(RecordFilter(flow = 1, session = 2), 0, 10).size)
        assertEquals(listOf(5L), store.flows(RecordFilter(app = "com.c"), 0, 10).map { it.flow })
        // kind means nothing to flows, as in the core's queries.
        assertEquals(3, store.flows(RecordFilter(kind = "imei"), 0, 10).size)
        assertEquals(0, findings(RecordFilter(app = "nobody")).size)
        // What a server sent back, apart from what was sent.
        assertEquals(listOf("email"), findings(RecordFilter(direction = "in")).map { it.kind })
        assertEquals(5, findings(RecordFilter(direction = "out")).size)
        assertEquals(listOf("imei"), findings(RecordFilter(app = "com.c", direction = "out")).map { it.kind })
    }

    @Test
    fun `bad pages are refused saying why`() {
        for ((offset, limit) in listOf(-1 to 10, 0 to 0, 0 to RecordStore.MAX_PAGE + 1)) {
            val e = assertThrows(IllegalArgumentException::class.java) { store.findings(RecordFilter(), offset, limit) }
            assertTrue(e.message!!, e.message!!.startsWith("page limit must be 1 to 10000"))
        }
    }

    @Test
    fun `an export is every row as the line the core sent, oldest first`() {
        twoSessions()
        val out = ByteArrayOutputStream()
        val n = store.exportJsonl(RecordStore.Table.FINDINGS, out)
        assertEquals(out.size().toLong(), n)
        val want = jsonl(
            finding(1, "com.a", "imei", 11), finding(1, "com.b", "imsi", 21),
            finding(1, "com.a", "imei", 12), finding(1, "com.b", "imsi", 22),
        )
        assertEquals(want, out.toString(Charsets.UTF_8))
        val flows = ByteArrayOutputStream()
        store.exportJsonl(RecordStore.Table.FLOWS, flows)
        assertEquals(jsonl(flow(1, "com.a", 31), flow(1, "com.a", 32)), flows.toString(Charsets.UTF_8))
    }

    /** Tables, columns and indexes, in the form rust-core/store/tests/schema.rs writes them. */
    private fun describe(db: SQLiteDatabase): String {
        val out = StringBuilder()
        val names = db.rawQuery(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index') " +
                "AND name NOT LIKE 'sqlite_%' AND name != 'android_metadata' ORDER BY type DESC, name",
            null,
        ).use { c -> generateSequence { if (c.moveToNext()) Triple(c.getString(0), c.getString(1), c.getString(2)) else null }.toList() }
        for ((type, name, table) in names) {
            if (type == "table") {
                out.append("table $name\n")
                db.rawQuery("PRAGMA table_info($name)", null).use { c ->
                    while (c.moveToNext()) {
                        out.append("  column ${c.getString(1)} ${c.getString(2)} notnull=${c.getLong(3)} pk=${c.getLong(5)}\n")
                    }
                }
            } else {
                val columns = db.rawQuery("PRAGMA index_info($name)", null).use { c ->
                    generateSequence { if (c.moveToNext()) c.getString(2) else null }.toList()
                }
                out.append("index $name on $table (${columns.joinToString(", ")})\n")
            }
        }
        return out.toString()
    }
}
