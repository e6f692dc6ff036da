package org.phonehome.app

import android.app.Activity
import android.content.Intent
import android.os.Bundle
import android.view.Menu
import android.view.MenuItem
import android.view.View
import android.widget.ImageView
import android.widget.LinearLayout
import android.widget.TextView
import org.phonehome.R
import org.phonehome.core.Contract
import org.phonehome.model.AppSummary
import org.phonehome.model.DestinationSummary
import org.phonehome.model.Finding
import org.phonehome.model.Format
import org.phonehome.model.Grouping
import org.phonehome.model.KindSummary
import org.phonehome.model.Kinds

/**
 * Findings grouped by app, then destination (vendor-tagged), then identifier kind with the
 * forms it travelled in and when it was first and last seen. With [EXTRA_APP], one app only.
 */
class FindingsActivity : Activity() {
    companion object {
        const val EXTRA_APP = "app"
        private const val PAGE = 2000
        private const val MENU_REFRESH = 1
        private const val MENU_MORE = 2
    }

    private lateinit var list: LinearLayout
    private var app: String? = null
    private var limit = PAGE

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        app = intent.getStringExtra(EXTRA_APP)
        title = if (app != null) AppNames.label(this, app) else getString(R.string.findings_title)
        list = Ui.column(this)
        setContentView(Ui.page(this, list))
        load()
    }

    override fun onCreateOptionsMenu(menu: Menu): Boolean {
        menu.add(0, MENU_REFRESH, 0, R.string.refresh).setShowAsAction(MenuItem.SHOW_AS_ACTION_IF_ROOM)
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
        val filter = RecordFilter(app = app)
        val records = phoneHome.records
        val max = limit
        phoneHome.worker.query({
            val findings = records.findings(filter, 0, max)
            findings to Grouping.group(findings)
        }) { result, error ->
            if (isDestroyed) return@query
            list.removeAllViews()
            when {
                result == null -> list.addView(Ui.warning(this, getString(R.string.query_failed, error ?: "")))
                result.first.isEmpty() -> list.addView(Ui.text(this, getString(R.string.findings_none)))
                else -> {
                    if (result.first.size >= max) list.addView(Ui.note(this, getString(R.string.findings_newest, max)))
                    for (a in result.second) showApp(a)
                }
            }
        }
    }

    private fun showApp(a: AppSummary) {
        if (app == null) {
            val header = layoutInflater.inflate(R.layout.row_app, list, false)
            header.findViewById<TextView>(R.id.row_title).text = AppNames.label(this, a.app)
            header.findViewById<TextView>(R.id.row_subtitle).text = a.app ?: getString(R.string.app_unknown_explained)
            AppNames.icon(this, a.app)?.let { header.findViewById<ImageView>(R.id.row_icon).setImageDrawable(it) }
            header.setOnClickListener {
                startActivity(Intent(this, FindingsActivity::class.java).putExtra(EXTRA_APP, a.app))
            }
            list.addView(header)
        }
        for (d in a.destinations) showDestination(d)
    }

    private fun showDestination(d: DestinationSummary) {
        val label = listOfNotNull(d.vendorLabel, d.service?.takeIf { it != d.vendorLabel }).joinToString(" · ")
        list.addView(Ui.heading(this, d.host))
        if (label.isNotEmpty()) list.addView(Ui.note(this, label))
        val now = System.currentTimeMillis()
        for (k in d.kinds) list.addView(kindView(k, now))
    }

    private fun kindView(k: KindSummary, now: Long): View {
        val offset = java.util.TimeZone.getDefault().getOffset(k.lastSeen).toLong()
        val box = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            val p = Ui.dp(this@FindingsActivity, 8)
            setPadding(p, p / 2, 0, p / 2)
        }
        val what = if (k.kind == Contract.ENCRYPTED_FLOW) getString(R.string.kind_encrypted, k.count)
        else getString(R.string.kind_line, Kinds.name(k.kind), k.count, k.confidence)
        box.addView(Ui.text(this, what))
        if (k.kind != Contract.ENCRYPTED_FLOW) {
            box.addView(Ui.note(this, getString(R.string.kind_forms, k.forms.joinToString(", "), k.places.joinToString(", "))))
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
        if (k.evidence.isNotEmpty()) box.addView(Ui.note(this, k.evidence).apply { typeface = android.graphics.Typeface.MONOSPACE })
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
