package org.phonehome.app

import android.app.Activity
import android.os.Bundle
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.model.Finding
import org.phonehome.model.Flow
import org.phonehome.model.Format
import org.phonehome.model.Kinds
import org.phonehome.model.Vendors

/** One flow: its endpoints, name, sizes, times, how it ended, and every finding in it. */
class FlowActivity : Activity() {
    companion object {
        const val EXTRA_FLOW = "flow"
        const val EXTRA_SESSION = "session"
    }

    private lateinit var list: LinearLayout

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val flowId = intent.getLongExtra(EXTRA_FLOW, -1)
        val session = intent.getLongExtra(EXTRA_SESSION, -1)
        title = getString(R.string.flow_title, flowId)
        list = Ui.column(this)
        setContentView(Ui.page(this, list))
        list.addView(Ui.note(this, getString(R.string.loading)))
        val filter = RecordFilter(flow = flowId, session = session.takeIf { it >= 0 })
        val records = phoneHome.records
        phoneHome.worker.query({
            records.flows(filter, 0, 1).firstOrNull() to records.findings(filter, 0, 500)
        }) { result, error ->
            if (isDestroyed) return@query
            list.removeAllViews()
            if (result == null) {
                list.addView(Ui.warning(this, getString(R.string.query_failed, error ?: "")))
                return@query
            }
            show(result.first, result.second)
        }
    }

    private fun show(flow: Flow?, findings: List<Finding>) {
        val now = System.currentTimeMillis()
        fun time(t: Long) = Format.dateTime(t, java.util.TimeZone.getDefault().getOffset(t).toLong())
        val any = findings.firstOrNull()
        val host = flow?.host ?: any?.host
        val vendor = Vendors.label(flow?.vendor ?: any?.vendor, flow?.category ?: any?.category)
        list.addView(Ui.title(this, host ?: flow?.dst ?: any?.dst ?: "?"))
        vendor?.let { v -> list.addView(Ui.text(this, listOfNotNull(v, flow?.service ?: any?.service).joinToString(" · "))) }
        val app = flow?.app ?: any?.app
        list.addView(Ui.text(this, getString(R.string.flow_app, AppNames.label(this, app), app ?: "")))
        if (flow != null) {
            list.addView(Ui.text(this, getString(R.string.flow_endpoints, flow.proto.uppercase(), flow.src, flow.dst)))
            flow.hostSource?.let { list.addView(Ui.note(this, getString(R.string.flow_named_from, it))) }
            list.addView(Ui.text(this, getString(R.string.flow_bytes, Format.bytes(flow.bytesOut), Format.bytes(flow.bytesIn))))
            list.addView(Ui.text(this, getString(R.string.flow_times, time(flow.start), Format.duration(flow.end - flow.start), flow.close)))
        } else {
            list.addView(Ui.note(this, getString(R.string.flow_still_open)))
            any?.let { list.addView(Ui.text(this, getString(R.string.flow_endpoints, it.proto.uppercase(), it.src, it.dst))) }
        }
        list.addView(Ui.heading(this, getString(R.string.flow_findings, findings.size)))
        for (f in findings.sortedBy { it.ts }) {
            list.addView(Ui.text(this, "${Kinds.name(f.kind)} · ${f.form} · ${f.where} · ${f.direction} · ${f.confidence}"))
            list.addView(Ui.note(this, "${time(f.ts)} (${Format.ago(f.ts, now)})"))
            if (f.evidence.isNotEmpty()) list.addView(Ui.note(this, f.evidence).apply { typeface = android.graphics.Typeface.MONOSPACE })
            if (f.bytesOut != null || f.bytesIn != null) {
                list.addView(Ui.note(this, getString(R.string.flow_bytes, Format.bytes(f.bytesOut ?: 0), Format.bytes(f.bytesIn ?: 0))))
            }
        }
    }
}
