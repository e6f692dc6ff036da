package org.phonehome.app

import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.Bundle
import android.widget.CompoundButton
import android.widget.LinearLayout
import android.widget.Switch
import android.widget.TextView
import java.io.File
import org.phonehome.R
import org.phonehome.core.NativeCore
import org.phonehome.model.CaCertificate
import org.phonehome.model.CaGuidance

/**
 * "See inside HTTPS": TLS interception, off unless turned on here, for the apps chosen;
 * the CA certificate to export and how to install it on this phone's Android version.
 */
class InterceptActivity : Screen() {
    private lateinit var store: Store
    private lateinit var enabled: Switch
    private lateinit var apps: LinearLayout
    private lateinit var status: TextView
    private var busy = false

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        store = Store(this)
        val settings = store.settings()
        val col = Ui.column(this)

        val main = Ui.card(this)
        main.addView(Ui.note(this, getString(R.string.intercept_explained)))
        @Suppress("DEPRECATION")
        enabled = Switch(this).apply {
            id = R.id.intercept_switch
            setText(R.string.intercept_title)
            setTextSize(android.util.TypedValue.COMPLEX_UNIT_SP, 16f)
            setTextColor(Ui.color(this@InterceptActivity, R.color.text_primary))
            minHeight = Ui.dp(this@InterceptActivity, 48)
            isChecked = settings.seeInsideHttps
            setOnCheckedChangeListener { _: CompoundButton, on: Boolean ->
                store.saveSettings(store.settings().copy(seeInsideHttps = on))
                appsSubtitle()
            }
        }
        main.addView(enabled)
        main.addView(Ui.note(this, getString(R.string.intercept_applies)))
        apps = Ui.entry(this, getString(R.string.intercept_apps_title), appsLine()) {
            startActivity(Intent(this, InterceptedAppsActivity::class.java))
        }
        main.addView(apps)
        col.addView(main)

        val ca = Ui.card(this)
        ca.addView(Ui.heading(this, getString(R.string.intercept_ca_title)))
        ca.addView(Ui.note(this, getString(R.string.intercept_ca_explained)))
        ca.addView(Ui.button(this, getString(R.string.intercept_export_der), Ui.ButtonKind.OUTLINED) { export(CaExport.Format.DER) }
            .apply { id = R.id.intercept_export_der })
        ca.addView(Ui.button(this, getString(R.string.intercept_export_pem), Ui.ButtonKind.OUTLINED) { export(CaExport.Format.PEM) }
            .apply { id = R.id.intercept_export_pem })
        status = Ui.note(this, "").apply { id = R.id.intercept_status }
        ca.addView(status)
        col.addView(ca)

        val install = Ui.card(this)
        install.addView(Ui.heading(this, getString(R.string.intercept_install_title, Build.VERSION.RELEASE ?: "?", Build.VERSION.SDK_INT)))
        for ((i, step) in CaGuidance.steps(Build.VERSION.SDK_INT).withIndex()) {
            install.addView(Ui.text(this, "${i + 1}. ${getString(stepText(step))}").apply { setPadding(0, Ui.dp(this@InterceptActivity, 6), 0, 0) })
        }
        col.addView(install)
        setScreen(getString(R.string.intercept_title), col)
    }

    override fun onResume() {
        super.onResume()
        appsSubtitle()
    }

    /** The app entry's second line: whether it is on, and for how many apps. */
    private fun appsLine(): String {
        val s = store.settings()
        val n = s.interceptedApps.size
        return when {
            !s.seeInsideHttps -> getString(R.string.intercept_off)
            n == 0 -> getString(R.string.intercept_no_apps)
            else -> resources.getQuantityString(R.plurals.intercept_apps_count, n, n)
        }
    }

    /** Ui.entry's texts column holds the title, then the subtitle. */
    private fun appsSubtitle() {
        for (i in 0 until apps.childCount) {
            val texts = apps.getChildAt(i) as? LinearLayout ?: continue
            (texts.getChildAt(1) as? TextView)?.text = appsLine()
            return
        }
    }

    private fun stepText(step: CaGuidance.Step): Int = when (step) {
        CaGuidance.Step.USER_STORE_SETTINGS -> R.string.ca_step_user_store_settings
        CaGuidance.Step.USER_STORE_OPEN_FILE -> R.string.ca_step_user_store_open_file
        CaGuidance.Step.APPS_MUST_OPT_IN -> R.string.ca_step_apps_must_opt_in
        CaGuidance.Step.ALL_APPS_TRUST_USER_CAS -> R.string.ca_step_all_apps_trust
        CaGuidance.Step.SYSTEM_STORE_ROOTED -> R.string.ca_step_system_store
        CaGuidance.Step.SYSTEM_STORE_APEX -> R.string.ca_step_system_store_apex
        CaGuidance.Step.PINNING_PASSES_THROUGH -> R.string.ca_step_pinning
    }

    private fun export(format: CaExport.Format) {
        if (busy) return
        busy = true
        status.setText(R.string.export_working)
        val caDir = store.caDir.absolutePath
        phoneHome.worker.query({ CaExport.write(applicationContext, caDir, format) }) { file, error ->
            busy = false
            if (isDestroyed) return@query
            if (file == null) {
                status.text = getString(R.string.export_failed, error ?: "")
            } else {
                status.text = getString(R.string.intercept_export_ready, file.name)
                Exporter.share(this, file)
            }
        }
    }
}

/** Writes the CA certificate (never its key) for the share sheet, as PEM or DER. */
object CaExport {
    enum class Format(val fileName: String) {
        PEM("phonehome-ca.pem"),
        DER("phonehome-ca.crt"),
    }

    /** The core's answer for a CA directory; tests without the native core put their own. */
    @Volatile
    var certificate: (Context, String) -> String = { context, caDir ->
        context.phoneHome.worker.requireCore()
        NativeCore.caCertificate(caDir)
    }

    /** Runs on the worker; returns the file written (other exports are removed first). */
    fun write(context: Context, caDir: String, format: Format): File {
        val pem = certificate(context, caDir)
        val dir = ExportProvider.dir(context)
        dir.listFiles()?.forEach { it.delete() }
        val file = File(dir, format.fileName)
        when (format) {
            Format.PEM -> file.writeText(pem)
            Format.DER -> file.writeBytes(CaCertificate.der(pem) ?: throw IllegalStateException("the core's CA certificate is not PEM"))
        }
        return file
    }
}
