package org.phonehome.app

import android.os.Bundle
import android.widget.TextView
import org.phonehome.R

/**
 * Export: the records as files another app (mail, a file manager, Wireshark on a computer)
 * receives through the share sheet. Nothing leaves the phone unless the user picks a target.
 */
class ExportActivity : Screen() {
    private lateinit var status: TextView
    private var busy = false

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val col = Ui.column(this)
        col.addView(Ui.note(this, getString(R.string.export_explained)).apply { setPadding(0, Ui.dp(this@ExportActivity, 8), 0, 0) })
        for ((format, title, why) in listOf(
            Triple(Exporter.Format.FINDINGS, R.string.export_findings, R.string.export_findings_why),
            Triple(Exporter.Format.FLOWS, R.string.export_flows, R.string.export_flows_why),
            Triple(Exporter.Format.PCAPNG, R.string.export_pcapng, R.string.export_pcapng_why),
        )) {
            val card = Ui.card(this)
            card.addView(Ui.heading(this, getString(title)))
            card.addView(Ui.note(this, getString(why)))
            card.addView(Ui.button(this, getString(R.string.export_share, getString(title)), Ui.ButtonKind.OUTLINED) { export(format) })
            col.addView(card)
        }
        status = Ui.note(this, "").apply { id = R.id.export_status }
        col.addView(status)
        setScreen(getString(R.string.export_title), col)
    }

    private fun export(format: Exporter.Format) {
        if (busy) return
        busy = true
        status.setText(R.string.export_working)
        val recordsDir = Store(this).recordsDir.absolutePath
        phoneHome.worker.query({ Exporter.write(applicationContext, recordsDir, format) }) { file, error ->
            busy = false
            if (isDestroyed) return@query
            if (file == null) {
                status.text = getString(R.string.export_failed, error ?: "")
            } else {
                status.text = getString(R.string.export_ready, file.name, org.phonehome.model.Format.bytes(file.length()))
                Exporter.share(this, file)
            }
        }
    }
}
