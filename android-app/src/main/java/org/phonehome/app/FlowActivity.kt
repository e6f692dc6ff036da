package org.phonehome.app

import android.os.Bundle
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.model.Finding
import org.phonehome.model.Flow
import org.phonehome.model.Format
import org.phonehome.model.Kinds
import org.phonehome.model.Places
import org.phonehome.model.Companies

/**
 * One flow: its endpoints, name, sizes, times, how it ended, and every finding in it: what
 * was sent first, then, quieter, what the server sent back (not leaks).
 */
class FlowActivity : Screen() {
    companion object {
        const val EXTRA_FLOW = "flow"
        const val EXTRA_SESSION = "session"
    }

    private lateinit var list: LinearLayout

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val flowId = intent.getLongExtra(EXTRA_FLOW, -1)
        val session = intent.getLongExtra(EXTRA_SESSION, -1)
        list = Ui.column(this)
        setScreen(getString(R.string.flow_title, flowId), list)
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

    /** What TLS interception did with the flow, in words; null when it was not in its hands. */
    private fun tlsMark(mode: String?): String? = when (mode) {
        "intercepted" -> getString(R.string.tls_intercepted)
        "pinned" -> getString(R.string.tls_pinned)
        "passthrough" -> getString(R.string.tls_passthrough)
        "upstream-rejected" -> getString(R.string.tls_upstream_rejected)
        "quic-dropped" -> getString(R.string.tls_quic_dropped)
        null -> null
        else -> mode
    }

    private fun show(flow: Flow?, findings: List<Finding>) {
        val now = System.currentTimeMillis()
        fun time(t: Long) = Format.dateTime(t, java.util.TimeZone.getDefault().getOffset(t).toLong())
        val any = findings.firstOrNull()
        val head = Ui.card(this)
        val host = flow?.host ?: any?.host
        head.addView(Ui.title(this, host ?: flow?.dst ?: any?.dst ?: "?"))
        val company = Companies.label(flow?.company ?: any?.company, flow?.category ?: any?.category)
        company?.let { v -> head.addView(Ui.chip(this, listOfNotNull(v, flow?.service ?: any?.service).joinToString(" · "))) }
        val app = flow?.app ?: any?.app
        head.addView(Ui.field(this, getString(R.string.flow_app), listOfNotNull(AppNames.label(this, app), app?.takeIf { it != AppNames.label(this, app) }).joinToString("\n")))
        if (flow != null) {
            head.addView(Ui.field(this, getString(R.string.flow_connection), getString(R.string.flow_endpoints, flow.proto.uppercase(), flow.src, flow.dst)))
            flow.hostSource?.let { head.addView(Ui.field(this, getString(R.string.flow_named_from), it)) }
            head.addView(Ui.field(this, getString(R.string.flow_traffic), getString(R.string.flow_bytes, Format.bytes(flow.bytesOut), Format.bytes(flow.bytesIn))))
            head.addView(Ui.field(this, getString(R.string.flow_when), getString(R.string.flow_times, time(flow.start), Format.duration(flow.end - flow.start))))
            head.addView(Ui.field(this, getString(R.string.flow_ended), flow.close))
            tlsMark(flow.tls)?.let { head.addView(Ui.field(this, getString(R.string.flow_tls), it).apply { id = R.id.flow_tls }) }
        } else {
            head.addView(Ui.note(this, getString(R.string.flow_still_open)))
            tlsMark(any?.tls)?.let { head.addView(Ui.field(this, getString(R.string.flow_tls), it).apply { id = R.id.flow_tls }) }
            any?.let { head.addView(Ui.field(this, getString(R.string.flow_connection), getString(R.string.flow_endpoints, it.proto.uppercase(), it.src, it.dst))) }
        }
        list.addView(head)
        val (sent, received) = findings.sortedBy { it.ts }.partition { it.sent }
        val found = Ui.card(this)
        found.addView(Ui.heading(this, getString(R.string.flow_findings, sent.size)))
        for (f in sent) {
            found.addView(Ui.divider(this))
            found.addView(Ui.text(this, Kinds.name(f.kind), Ui.Style.HEADING).apply { setPadding(0, Ui.dp(this@FlowActivity, 8), 0, 0) })
            found.addView(Ui.note(this, getString(R.string.flow_finding_how, f.form, Places.name(f.where), f.direction, f.confidence)))
            found.addView(Ui.note(this, "${time(f.ts)} (${Format.ago(f.ts, now)})"))
            if (f.evidence.isNotEmpty()) found.addView(Ui.mono(this, f.evidence))
            if (f.bytesOut != null || f.bytesIn != null) {
                found.addView(Ui.note(this, getString(R.string.flow_bytes, Format.bytes(f.bytesOut ?: 0), Format.bytes(f.bytesIn ?: 0))))
            }
        }
        list.addView(found)
        if (received.isEmpty()) return
        // Quieter: one secondary line per finding, no evidence, no headings per kind.
        val back = Ui.card(this)
        back.addView(Ui.text(this, getString(R.string.flow_received, received.size), Ui.Style.HEADING))
        back.addView(Ui.note(this, getString(R.string.flow_received_why)))
        for (f in received) {
            back.addView(Ui.note(this, "${Kinds.name(f.kind)} · ${f.form} · ${time(f.ts)}").apply { setPadding(0, Ui.dp(this@FlowActivity, 8), 0, 0) })
        }
        list.addView(back)
    }
}
