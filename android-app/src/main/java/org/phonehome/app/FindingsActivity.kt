package org.phonehome.app

import android.content.Intent
import android.os.Bundle
import android.view.Menu
import android.view.MenuItem
import android.view.View
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.core.Contract
import org.phonehome.model.AppLine
import org.phonehome.model.AppSummary
import org.phonehome.model.DestinationSummary
import org.phonehome.model.Finding
import org.phonehome.model.Format
import org.phonehome.model.Grouping
import org.phonehome.model.KindSummary
import org.phonehome.model.Kinds
import org.phonehome.model.Places
import org.phonehome.model.ReceivedSummary

/**
 * Findings grouped by app, then destination (with its company), then identifier kind with the
 * forms it travelled in and when it was first and last seen. With [EXTRA_APP], one app
 * only: the per-app view. What servers sent back follows in a quieter card of its own:
 * not leaks, the servers already knew it.
 */
class FindingsActivity : Screen() {
    companion object {
        const val EXTRA_APP = "app"
        private const val PAGE = 2000
        private const val RECEIVED_PAGE = 500
        private const val MENU_REFRESH = 1
        private const val MENU_MORE = 2
    }

    private lateinit var list: LinearLayout
    private var app: String? = null
    private var limit = PAGE

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        app = intent.getStringExtra(EXTRA_APP)
        list = Ui.column(this)
        setScreen(getString(if (app != null) R.string.app_title else R.string.findings_title), list)
        load()
    }

    override fun onCreateOptionsMenu(menu: Menu): Boolean {
        menu.add(0, MENU_REFRESH, 0, R.string.refresh)
        menu.add(0, MENU_MORE, 1, R.string.load_more)
        return true
    }

    override fun onOptionsItemSelected(item: MenuItem): Boolean = when (item.itemId) {
        MENU_REFRESH -> { load(); true }
        MENU_MORE -> { limit += PAGE; load(); true }
        else -> super.onOptionsItemSelected(item)
    }

    private fun load() {
        list.removeAllViews()
        list.addView(Ui.note(this, getString(R.string.loading)))
        val sentFilter = RecordFilter(app = app, direction = Finding.SENT)
        val receivedFilter = RecordFilter(app = app, direction = Finding.RECEIVED)
        val records = phoneHome.records
        val max = limit
        phoneHome.worker.query({
            val sent = records.findings(sentFilter, 0, max)
            Triple(sent, Grouping.group(sent), Grouping.received(records.findings(receivedFilter, 0, RECEIVED_PAGE)))
        }) { result, error ->
            if (isDestroyed) return@query
            list.removeAllViews()
            when {
                result == null -> list.addView(Ui.warning(this, getString(R.string.query_failed, error ?: "")))
                result.first.isEmpty() && result.third.isEmpty() ->
                    list.addView(Ui.card(this).apply { addView(Ui.text(this@FindingsActivity, getString(R.string.findings_none))) })
                else -> {
                    if (result.first.isEmpty()) {
                        list.addView(Ui.card(this).apply { addView(Ui.text(this@FindingsActivity, getString(R.string.findings_none_sent))) })
                    } else {
                        if (app == null) list.addView(Ui.note(this, getString(R.string.findings_intro)).apply { setPadding(0, Ui.dp(this@FindingsActivity, 8), 0, 0) })
                        if (result.first.size >= max) list.addView(Ui.note(this, getString(R.string.findings_newest, max)))
                        for (a in result.second) showApp(a)
                    }
                    if (result.third.isNotEmpty()) showReceived(result.third)
                }
            }
            if (result != null && app == null) {
                list.addView(Ui.card(this).apply {
                    addView(Ui.entry(this@FindingsActivity, getString(R.string.open_discovered), getString(R.string.open_discovered_why)) {
                        startActivity(Intent(this@FindingsActivity, DiscoveredActivity::class.java))
                    })
                })
            }
        }
    }

    /** The quiet card: per app and server, which identifiers came back, how often, when last. */
    private fun showReceived(received: List<ReceivedSummary>) {
        val now = System.currentTimeMillis()
        val card = Ui.card(this)
        card.addView(Ui.text(this, getString(R.string.findings_received_title), Ui.Style.HEADING))
        card.addView(Ui.note(this, getString(R.string.findings_received_intro)))
        for (r in received) {
            card.addView(Ui.divider(this).apply { (layoutParams as LinearLayout.LayoutParams).topMargin = Ui.dp(this@FindingsActivity, 8) })
            val to = listOfNotNull(r.host, r.companyLabel?.takeIf { it != r.host }).joinToString(" · ")
            card.addView(Ui.note(this, getString(R.string.received_entry, AppNames.label(this, r.app), to)).apply {
                setPadding(0, Ui.dp(this@FindingsActivity, 8), 0, 0)
            })
            val kinds = r.kinds.joinToString(", ") { Kinds.name(it) }
            card.addView(Ui.note(this, getString(R.string.received_kinds, kinds, r.count, Format.ago(r.lastSeen, now))))
        }
        list.addView(card)
    }

    private fun showApp(a: AppSummary) {
        val card = Ui.card(this)
        val now = System.currentTimeMillis()
        val icon = AppNames.icon(this, a.app) ?: getDrawable(android.R.drawable.sym_def_app_icon)
        val label = AppNames.label(this, a.app)
        if (app == null) {
            card.addView(
                Ui.entry(this, label, a.app ?: getString(R.string.app_unknown_explained), icon) {
                    startActivity(Intent(this, FindingsActivity::class.java).putExtra(EXTRA_APP, a.app))
                },
            )
        } else {
            // The per-app view: who it is, and one line of what it sent to whom.
            card.addView(Ui.entry(this, label, a.app ?: getString(R.string.app_unknown_explained), icon, null))
            card.addView(Ui.text(this, AppLine.of(a)))
            card.addView(Ui.note(this, getString(R.string.app_last_seen, Format.ago(a.lastSeen, now))))
        }
        for (d in a.destinations) showDestination(card, d, now)
        list.addView(card)
    }

    private fun showDestination(card: LinearLayout, d: DestinationSummary, now: Long) {
        card.addView(Ui.divider(this).apply { (layoutParams as LinearLayout.LayoutParams).topMargin = Ui.dp(this@FindingsActivity, 8) })
        card.addView(Ui.heading(this, d.host))
        val label = listOfNotNull(d.companyLabel, d.service?.takeIf { it != d.companyLabel }).joinToString(" · ")
        if (label.isNotEmpty()) card.addView(Ui.chip(this, label))
        for (k in d.kinds) card.addView(kindView(k, now))
    }

    private fun kindView(k: KindSummary, now: Long): View {
        val offset = java.util.TimeZone.getDefault().getOffset(k.lastSeen).toLong()
        val box = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            val p = Ui.dp(this@FindingsActivity, 8)
            setPadding(p, p, 0, p)
            isClickable = true
        }
        val what = if (k.kind == Contract.ENCRYPTED_FLOW) getString(R.string.kind_encrypted, k.count)
        else getString(R.string.kind_line, Kinds.name(k.kind), k.count, k.confidence)
        box.addView(Ui.text(this, what, Ui.Style.HEADING))
        if (k.kind != Contract.ENCRYPTED_FLOW) {
            box.addView(Ui.note(this, getString(R.string.kind_forms, k.forms.joinToString(", "), k.places.joinToString(", ") { Places.name(it) })))
        }
        box.addView(
            Ui.note(
                this,
                getString(
                    R.string.kind_seen,
                    Format.shortTime(k.firstSeen, now, offset),
                    Format.shortTime(k.lastSeen, now, offset),
                    Format.ago(k.lastSeen, now),
                ),
            ),
        )
        if (k.evidence.isNotEmpty()) box.addView(Ui.mono(this, k.evidence))
        box.contentDescription = null
        box.setOnClickListener {
            startActivity(
                Intent(this, FlowActivity::class.java)
                    .putExtra(FlowActivity.EXTRA_FLOW, k.newestFlow)
                    .putExtra(FlowActivity.EXTRA_SESSION, k.newestSession ?: -1L),
            )
        }
        return box
    }
}
