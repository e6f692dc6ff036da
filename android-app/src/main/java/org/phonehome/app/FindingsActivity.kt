package org.phonehome.app

import android.content.Intent
import android.os.Bundle
import android.view.Menu
import android.view.MenuItem
import android.view.View
import android.view.ViewGroup
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.core.Contract
import org.phonehome.model.AppLine
import org.phonehome.model.AppSummary
import org.phonehome.model.ByCompany
import org.phonehome.model.CompanyLine
import org.phonehome.model.CompanySummary
import org.phonehome.model.DestinationSummary
import org.phonehome.model.Finding
import org.phonehome.model.Format
import org.phonehome.model.Grouping
import org.phonehome.model.KindSummary
import org.phonehome.model.Kinds
import org.phonehome.model.Places
import org.phonehome.model.ReceivedSummary

/**
 * What was sent, grouped by company (its category, owners and first/third-party mark),
 * then destination, then identifier kind with the apps that sent it, the forms it took and
 * when it was first and last seen; hosts the catalog does not know come last, each under
 * its registrable domain. A toggle shows the same grouped by app instead; with
 * [EXTRA_APP], one app only: the per-app view. What servers sent back follows in a quieter
 * card of its own: not leaks, the servers already knew it.
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

    private lateinit var store: Store

    /**
     * The whole-phone view grouped by app instead of by company (the toggle at its top),
     * as last chosen: kept in the app's preferences.
     */
    private var byApp = false

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        app = intent.getStringExtra(EXTRA_APP)
        store = Store(this)
        byApp = store.findingsByApp()
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
        val perCompany = app == null && !byApp
        phoneHome.worker.query({
            val sent = records.findings(sentFilter, 0, max)
            val grouped = if (perCompany) ByCompany.group(sent) else Grouping.group(sent)
            Triple(sent, grouped, Grouping.received(records.findings(receivedFilter, 0, RECEIVED_PAGE)))
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
                        if (app == null) {
                            list.addView(toggle())
                            val intro = if (byApp) R.string.findings_intro_apps else R.string.findings_intro
                            list.addView(Ui.note(this, getString(intro)).apply { setPadding(0, Ui.dp(this@FindingsActivity, 8), 0, 0) })
                        }
                        if (result.first.size >= max) list.addView(Ui.note(this, getString(R.string.findings_newest, max)))
                        for (group in result.second) {
                            when (group) {
                                is CompanySummary -> showCompany(group)
                                is AppSummary -> showApp(group)
                            }
                        }
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

    /** "By company | By app": the selected one filled. */
    private fun toggle(): View {
        val row = LinearLayout(this).apply { orientation = LinearLayout.HORIZONTAL }
        for ((label, apps) in listOf(R.string.findings_by_company to false, R.string.findings_by_app to true)) {
            val b = Ui.button(this, getString(label), if (apps == byApp) Ui.ButtonKind.PRIMARY else Ui.ButtonKind.OUTLINED) {
                if (byApp != apps) {
                    byApp = apps
                    store.saveFindingsByApp(apps)
                    load()
                }
            }
            b.isSelected = apps == byApp
            row.addView(
                b,
                LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f).apply {
                    topMargin = Ui.dp(this@FindingsActivity, 12)
                    if (!apps) marginEnd = Ui.dp(this@FindingsActivity, 8)
                },
            )
        }
        return row
    }

    /**
     * One company's card: its name, what it is, who owns it and whose it is, one sentence
     * of what it received from how many apps, then each of its hosts with the kinds.
     */
    private fun showCompany(c: CompanySummary) {
        val card = Ui.card(this)
        val now = System.currentTimeMillis()
        val label = { a: String? -> AppNames.label(this, a) }
        card.addView(Ui.title(this, c.name))
        val party = CompanyLine.party(c.parties, label)
        val about = if (c.company == null) listOfNotNull(getString(R.string.company_unknown), party)
        else listOfNotNull(c.what, c.parent?.let { getString(R.string.company_owned_by, it) }, party)
        if (about.isNotEmpty()) card.addView(Ui.chip(this, about.joinToString(" · ")))
        card.addView(Ui.text(this, CompanyLine.of(c) { resources.getQuantityString(R.plurals.apps, it, it) }))
        card.addView(Ui.note(this, c.apps.joinToString(", ") { label(it.app) }))
        for (d in c.destinations) {
            // The host's own mark only where it differs from its company's (a mixed company).
            val own = CompanyLine.party(d.parties, label)?.takeIf { it != party }
            showDestination(card, d, now, listOfNotNull(d.service, own).joinToString(" · "), withApps = true)
        }
        list.addView(card)
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
        for (d in a.destinations) {
            val party = CompanyLine.party(d.parties) { AppNames.label(this, it) }
            showDestination(card, d, now, listOfNotNull(d.companyLabel, d.service?.takeIf { it != d.companyLabel }, party).joinToString(" · "), withApps = false)
        }
        list.addView(card)
    }

    private fun showDestination(card: LinearLayout, d: DestinationSummary, now: Long, chip: String, withApps: Boolean) {
        card.addView(Ui.divider(this).apply { (layoutParams as LinearLayout.LayoutParams).topMargin = Ui.dp(this@FindingsActivity, 8) })
        card.addView(Ui.heading(this, d.host))
        if (chip.isNotEmpty()) card.addView(Ui.chip(this, chip))
        for (k in d.kinds) card.addView(kindView(k, now, withApps))
    }

    private fun kindView(k: KindSummary, now: Long, withApps: Boolean): View {
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
        if (withApps) box.addView(Ui.note(this, getString(R.string.kind_from, CompanyLine.apps(k.apps) { AppNames.label(this, it) })))
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
