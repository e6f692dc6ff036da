package org.phonehome.app

import android.os.Bundle
import android.widget.LinearLayout
import android.widget.Toast
import org.phonehome.R
import org.phonehome.model.DiscoveredList
import org.phonehome.model.Format

/**
 * Identifiers nobody configured that the core discovered (its `discovered` records): each
 * value masked (tap shows it), the key names it went under, the apps, the registrable
 * domains, first and last seen. "Add to my identifiers" puts it in the typed identifiers,
 * which the core is given at its next start, so that later findings of it are exact;
 * "Ignore" stops listing it.
 */
class DiscoveredActivity : Screen() {
    private lateinit var list: LinearLayout

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        list = Ui.column(this)
        setScreen(getString(R.string.discovered_title), list)
    }

    override fun onResume() {
        super.onResume()
        load()
    }

    private fun load() {
        val records = phoneHome.records
        val store = Store(this)
        phoneHome.worker.query({
            val ignored = store.ignoredDiscovered()
            val all = records.discovered()
            Pair(DiscoveredList.rows(all, ignored, store.typedIdentifiers()), all.count { it.value in ignored })
        }) { result, error ->
            if (isDestroyed) return@query
            list.removeAllViews()
            if (result == null) {
                list.addView(Ui.warning(this, getString(R.string.query_failed, error ?: "")))
                return@query
            }
            val (rows, ignored) = result
            list.addView(Ui.note(this, getString(R.string.discovered_intro)))
            if (rows.isEmpty()) {
                list.addView(Ui.card(this).apply { addView(Ui.text(this@DiscoveredActivity, getString(R.string.discovered_none))) })
            }
            for (row in rows) show(row, store)
            if (ignored > 0) list.addView(Ui.note(this, getString(R.string.discovered_ignored_count, ignored)))
        }
    }

    private fun show(row: DiscoveredList.Row, store: Store) {
        val d = row.discovered
        val now = System.currentTimeMillis()
        fun time(t: Long) = Format.dateTime(t, java.util.TimeZone.getDefault().getOffset(t).toLong())
        val card = Ui.card(this)
        card.addView(Ui.revealable(this, getString(R.string.discovered_value), d.masked, d.value))
        val keys = if (d.keys.isEmpty()) getString(R.string.discovered_no_key) else getString(R.string.discovered_keys, d.keys.joinToString(", "))
        card.addView(Ui.text(this, keys, Ui.Style.HEADING))
        val apps = d.apps.joinToString(", ") { AppNames.label(this, it) }
        if (apps.isNotEmpty()) card.addView(Ui.text(this, getString(R.string.discovered_apps, apps)))
        card.addView(Ui.text(this, getString(R.string.discovered_to, d.domains.joinToString(", "))))
        card.addView(Ui.note(this, getString(R.string.discovered_seen, time(d.firstSeen), time(d.lastSeen), Format.ago(d.lastSeen, now))))
        card.addView(Ui.note(this, getString(R.string.discovered_counts, d.flows.toInt(), d.sessions.toInt())))
        if (row.added) {
            card.addView(Ui.note(this, getString(R.string.discovered_added)).apply { setPadding(0, Ui.dp(this@DiscoveredActivity, 8), 0, 0) })
        } else {
            card.addView(
                Ui.button(this, getString(R.string.discovered_add)) {
                    store.addDeviceId(d.value)
                    Toast.makeText(this, R.string.discovered_added_toast, Toast.LENGTH_SHORT).show()
                    load()
                },
            )
        }
        card.addView(
            Ui.button(this, getString(R.string.discovered_ignore), Ui.ButtonKind.OUTLINED) {
                store.ignoreDiscovered(d.value)
                Toast.makeText(this, R.string.discovered_ignored_toast, Toast.LENGTH_SHORT).show()
                load()
            },
        )
        list.addView(card)
    }
}
