package org.phonehome.app

import android.content.Intent
import android.os.Bundle
import android.view.View
import android.view.ViewGroup
import android.widget.BaseAdapter
import android.widget.ImageView
import android.widget.ListView
import android.widget.TextView
import org.phonehome.R
import org.phonehome.core.Contract
import org.phonehome.model.AppSummary
import org.phonehome.model.Finding
import org.phonehome.model.Format
import org.phonehome.model.Grouping
import org.phonehome.model.Kinds

/**
 * Every app seen sending something, with its icon and label; tap one for its findings.
 * Apps whose only findings are in what servers sent back are not listed: they leaked nothing.
 */
class AppsActivity : Screen() {
    private var apps: List<AppSummary> = emptyList()
    private lateinit var listView: ListView
    private lateinit var empty: TextView

    private val adapter = object : BaseAdapter() {
        override fun getCount() = apps.size
        override fun getItem(position: Int) = apps[position]
        override fun getItemId(position: Int) = position.toLong()

        override fun getView(position: Int, convertView: View?, parent: ViewGroup): View {
            val v = convertView ?: layoutInflater.inflate(R.layout.row_app, parent, false)
            val a = apps[position]
            v.findViewById<TextView>(R.id.row_title).text = AppNames.label(this@AppsActivity, a.app)
            val kinds = a.kinds.filter { it != Contract.ENCRYPTED_FLOW }.joinToString(", ") { Kinds.name(it) }
            val what = if (kinds.isEmpty()) getString(R.string.apps_only_encrypted) else kinds
            v.findViewById<TextView>(R.id.row_subtitle).text = getString(
                R.string.apps_row, a.app ?: getString(R.string.app_unknown_explained),
                resources.getQuantityString(R.plurals.servers, a.destinations.size, a.destinations.size), what,
                Format.ago(a.lastSeen, System.currentTimeMillis()),
            )
            val icon = v.findViewById<ImageView>(R.id.row_icon)
            val d = AppNames.icon(this@AppsActivity, a.app)
            if (d != null) icon.setImageDrawable(d) else icon.setImageResource(android.R.drawable.sym_def_app_icon)
            return v
        }
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        listView = ListView(this).apply {
            divider = android.graphics.drawable.ColorDrawable(Ui.color(this@AppsActivity, R.color.divider))
            dividerHeight = maxOf(1, Ui.dp(this@AppsActivity, 1))
            val p = Ui.dp(this@AppsActivity, 16)
            setPadding(p, 0, p, 0)
        }
        empty = Ui.text(this, getString(R.string.loading)).apply {
            val p = Ui.dp(this@AppsActivity, 16)
            setPadding(p, p, p, p)
        }
        listView.emptyView = empty
        listView.adapter = adapter
        listView.setOnItemClickListener { _, _, position, _ ->
            startActivity(Intent(this, FindingsActivity::class.java).putExtra(FindingsActivity.EXTRA_APP, apps[position].app))
        }
        val root = android.widget.FrameLayout(this)
        root.addView(listView)
        root.addView(empty)
        setScreen(getString(R.string.apps_title), root, scrolls = false)
    }

    override fun onResume() {
        super.onResume()
        val records = phoneHome.records
        phoneHome.worker.query({ Grouping.group(records.findings(RecordFilter(direction = Finding.SENT), 0, 5000)) }) { result, error ->
            if (isDestroyed) return@query
            if (result == null) {
                empty.text = getString(R.string.query_failed, error ?: "")
                return@query
            }
            apps = result
            empty.setText(R.string.findings_none)
            adapter.notifyDataSetChanged()
        }
    }
}
