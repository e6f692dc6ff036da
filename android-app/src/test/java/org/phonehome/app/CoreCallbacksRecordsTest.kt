package org.phonehome.app

import android.app.Notification
import android.app.NotificationManager
import android.content.Context
import android.os.Handler
import android.os.Looper
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.app.RecordStoreTest.Companion.finding
import org.phonehome.app.RecordStoreTest.Companion.flow
import org.phonehome.app.RecordStoreTest.Companion.jsonl
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf

/**
 * What the app does with a batch from the core (`CoreHost.onRecords`): stores it at once,
 * on the calling thread, and notifies the first time an app sends a kind to a destination.
 */
@RunWith(RobolectricTestRunner::class)
class CoreCallbacksRecordsTest {
    private lateinit var service: MonitorVpnService
    private lateinit var records: RecordStore
    private lateinit var callbacks: CoreCallbacks

    @Before
    fun start() {
        service = Robolectric.buildService(MonitorVpnService::class.java).create().get()
        service.deleteDatabase(RecordStoreTest.NAME)
        records = RecordStore(service, RecordStoreTest.NAME)
        callbacks = CoreCallbacks(service, Store(service), Handler(Looper.getMainLooper()), records) {}
    }

    @After
    fun stop() {
        callbacks.close()
        records.close()
        service.deleteDatabase(RecordStoreTest.NAME)
    }

    private fun notifications(): List<Notification> {
        val nm = service.getSystemService(Context.NOTIFICATION_SERVICE) as NotificationManager
        return shadowOf(nm).allNotifications
    }

    /** Notifications are posted from the callbacks' own thread, a moment after the batch. */
    private fun awaitNotifications(n: Int): List<Notification> {
        val deadline = System.nanoTime() + 10_000_000_000L
        while (notifications().size < n && System.nanoTime() < deadline) Thread.sleep(10)
        return notifications()
    }

    @Test
    fun `a batch is stored before onRecords returns and a first discovery is notified once`() {
        callbacks.onRecords(5, jsonl(flow(1, "com.a", 9)), jsonl(finding(1, "com.a", "imei", 1), finding(1, "com.a", "imei", 2)), "")
        assertEquals(2, records.findings().size)
        assertEquals(listOf(5L), records.flows().map { it.session })
        val first = awaitNotifications(1)
        assertEquals(1, first.size)
        // The first leak names the company that received it.
        assertEquals("com.a sent the IMEI to Xiaomi", first[0].extras.getString(Notification.EXTRA_TITLE))
        assertEquals(
            "to Xiaomi account (api.account.xiaomi.com), as sha1 (base64url, truncated)",
            first[0].extras.getCharSequence(Notification.EXTRA_TEXT).toString(),
        )

        // The same app, destination and kind again: stored, not notified; a new app: notified.
        callbacks.onRecords(5, "", jsonl(finding(2, "com.a", "imei", 3)), "")
        callbacks.onRecords(5, "", jsonl(finding(3, "com.b", "imsi", 4)), "")
        assertEquals(4, records.findings().size)
        val all = awaitNotifications(2)
        assertEquals(2, all.size)
        assertTrue(all.any { it.extras.getString(Notification.EXTRA_TITLE)!!.contains("IMSI") })
        assertEquals(0, callbacks.storeFailures)
    }

    @Test
    fun `what a server sent back is stored but never notified as a discovery`() {
        callbacks.onRecords(5, "", jsonl(finding(1, "com.a", "email", 1, direction = "in")), "")
        assertEquals(listOf("in"), records.findings().map { it.direction })
        // The same app sending that kind later is its first leak, and notifies.
        callbacks.onRecords(5, "", jsonl(finding(2, "com.a", "email", 2)), "")
        val posted = awaitNotifications(1)
        assertEquals(1, posted.size)
        Thread.sleep(200)
        assertEquals(1, notifications().size)
    }

    @Test
    fun `a batch the store refuses is counted, and nothing of it is notified`() {
        records.writableDatabase.execSQL(
            "CREATE TRIGGER refuse BEFORE INSERT ON findings BEGIN SELECT RAISE(ABORT, 'disk full'); END",
        )
        callbacks.onRecords(5, jsonl(flow(1, "com.a", 9)), jsonl(finding(1, "com.a", "imei", 1)), "")
        assertEquals(1, callbacks.storeFailures)
        assertEquals(0, records.flows().size)
        Thread.sleep(200)
        assertEquals(0, notifications().size)
    }
}
