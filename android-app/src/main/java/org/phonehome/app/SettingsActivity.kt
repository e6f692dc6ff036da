package org.phonehome.app

import android.Manifest
import android.app.AlertDialog
import android.content.Intent
import android.content.pm.PackageManager
import android.os.Build
import android.os.Bundle
import android.text.InputType
import android.text.method.TransformationMethod
import android.view.View
import android.widget.CompoundButton
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.Switch
import android.widget.Toast
import org.phonehome.R
import org.phonehome.core.NativeCore
import org.phonehome.model.Identifiers
import org.phonehome.model.Masking
import org.phonehome.model.MonitorPhase
import org.phonehome.model.Settings
import org.phonehome.model.TypedIdentifiers
import org.phonehome.model.Validation

/**
 * The identifiers to look for (read from the phone with consent, or typed in) and how the
 * monitor runs. Typed values show masked until their field is tapped.
 */
class SettingsActivity : Screen() {
    companion object {
        private const val REQUEST_PHONE = 10
        private const val REQUEST_CONTACTS = 11
        private const val REQUEST_SMS = 12
    }

    private lateinit var store: Store
    private val monitor get() = phoneHome.monitor
    private lateinit var settings: Settings
    private val fields = LinkedHashMap<String, EditText>()
    private lateinit var readPhone: Switch
    private lateinit var readContacts: Switch
    private lateinit var readSms: Switch
    private lateinit var ipv6: Switch
    private lateinit var capture: Switch
    private lateinit var notify: Switch
    private lateinit var mtu: EditText
    private lateinit var scan: EditText
    private lateinit var problems: LinearLayout
    private lateinit var readResult: LinearLayout
    private lateinit var excluded: LinearLayout
    private lateinit var intercept: LinearLayout

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        store = Store(this)
        settings = store.settings()
        val col = Ui.column(this)

        val read = Ui.card(this)
        read.addView(Ui.heading(this, getString(R.string.section_read)))
        read.addView(Ui.note(this, getString(R.string.read_explained)))
        readPhone = switch(read, R.string.read_phone, R.string.perm_phone_why, settings.readPhone) { on ->
            if (on) ask(REQUEST_PHONE, phonePermissions())
        }
        readContacts = switch(read, R.string.read_contacts, R.string.perm_contacts_why, settings.readContacts) { on ->
            if (on) ask(REQUEST_CONTACTS, arrayOf(Manifest.permission.READ_CONTACTS))
        }
        readSms = switch(read, R.string.read_sms, R.string.perm_sms_why, settings.readSms) { on ->
            if (on) ask(REQUEST_SMS, arrayOf(Manifest.permission.READ_SMS))
        }
        readResult = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        read.addView(Ui.button(this, getString(R.string.show_read), Ui.ButtonKind.OUTLINED) { showRead() })
        read.addView(readResult)
        col.addView(read)

        val typed = Ui.card(this)
        typed.addView(Ui.heading(this, getString(R.string.section_typed)))
        typed.addView(Ui.note(this, getString(R.string.typed_explained)))
        val ids = store.typedIdentifiers()
        field(typed, "region", R.string.field_region, R.string.hint_region, ids.region.orEmpty(), secret = false)
        field(typed, "imei", R.string.field_imei, R.string.hint_imei, lines(ids.imei))
        field(typed, "imsi", R.string.field_imsi, R.string.hint_imsi, lines(ids.imsi))
        field(typed, "iccid", R.string.field_iccid, R.string.hint_iccid, lines(ids.iccid))
        field(typed, "phone", R.string.field_phone, R.string.hint_phone, lines(ids.phone))
        field(typed, "serial", R.string.field_serial, R.string.hint_serial, lines(ids.serial))
        field(typed, "mac", R.string.field_mac, R.string.hint_mac, lines(ids.mac))
        field(typed, "email", R.string.field_email, R.string.hint_email, lines(ids.email))
        field(typed, "ad_id", R.string.field_ad_id, R.string.hint_ad_id, lines(ids.adId))
        field(typed, "lat", R.string.field_lat, R.string.hint_lat, ids.location?.lat?.toString().orEmpty())
        field(typed, "lon", R.string.field_lon, R.string.hint_lon, ids.location?.lon?.toString().orEmpty())
        field(typed, "radius_m", R.string.field_radius, R.string.hint_radius, ids.location?.radiusM?.toString().orEmpty(), secret = false)
        col.addView(typed)

        val running = Ui.card(this)
        running.addView(Ui.heading(this, getString(R.string.section_monitoring)))
        ipv6 = switch(running, R.string.setting_ipv6, R.string.setting_ipv6_why, settings.ipv6) {}
        capture = switch(running, R.string.setting_capture, R.string.setting_capture_why, settings.capture) {}
        notify = switch(running, R.string.setting_notify, R.string.setting_notify_why, settings.notifyDiscoveries) {}
        mtu = number(running, R.string.setting_mtu, R.string.setting_mtu_why, settings.mtu)
        scan = number(running, R.string.setting_scan, R.string.setting_scan_why, settings.scanLimitKib)
        running.addView(Ui.divider(this).apply { (layoutParams as LinearLayout.LayoutParams).topMargin = Ui.dp(this@SettingsActivity, 8) })
        excluded = Ui.entry(this, getString(R.string.excluded_title), excludedLine(settings.excludedApps.size)) {
            save(quiet = true)
            startActivity(Intent(this, ExcludedAppsActivity::class.java))
        }
        running.addView(excluded)
        intercept = Ui.entry(this, getString(R.string.intercept_title), interceptLine()) {
            save(quiet = true)
            startActivity(Intent(this, InterceptActivity::class.java))
        }.apply { id = R.id.settings_intercept }
        running.addView(intercept)
        col.addView(running)

        problems = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        col.addView(problems)
        col.addView(Ui.button(this, getString(R.string.save)) { save(quiet = false) }.apply { id = R.id.settings_save })
        setScreen(getString(R.string.settings_title), col)
    }

    private fun excludedLine(n: Int): String = resources.getQuantityString(R.plurals.excluded_count, n, n)

    override fun onResume() {
        super.onResume()
        // The excluded apps and interception screens may have changed the stored settings.
        val stored = store.settings()
        settings = settings.copy(
            excludedApps = stored.excludedApps, seeInsideHttps = stored.seeInsideHttps, interceptedApps = stored.interceptedApps,
        )
        subtitle(excluded)?.text = excludedLine(settings.excludedApps.size)
        subtitle(intercept)?.text = interceptLine()
    }

    private fun interceptLine(): String {
        val n = settings.interceptedApps.size
        return if (settings.seeInsideHttps) resources.getQuantityString(R.plurals.intercept_apps_count, n, n) else getString(R.string.intercept_off)
    }

    /** An entry's second line (Ui.entry: texts column, title then subtitle). */
    private fun subtitle(entry: LinearLayout): android.widget.TextView? {
        for (i in 0 until entry.childCount) {
            val c = entry.getChildAt(i) as? LinearLayout ?: continue
            return c.getChildAt(1) as? android.widget.TextView
        }
        return null
    }

    private fun lines(values: List<String>) = values.joinToString("\n")

    private fun phonePermissions(): Array<String> =
        if (Build.VERSION.SDK_INT >= 26) arrayOf(Manifest.permission.READ_PHONE_STATE, Manifest.permission.READ_PHONE_NUMBERS)
        else arrayOf(Manifest.permission.READ_PHONE_STATE)

    private fun ask(request: Int, permissions: Array<String>) {
        val missing = permissions.filter { checkSelfPermission(it) != PackageManager.PERMISSION_GRANTED }
        if (missing.isNotEmpty()) requestPermissions(missing.toTypedArray(), request)
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        if (grantResults.any { it != PackageManager.PERMISSION_GRANTED }) {
            Toast.makeText(this, R.string.permission_denied, Toast.LENGTH_LONG).show()
        }
    }

    @Suppress("DEPRECATION")
    private fun switch(col: LinearLayout, label: Int, why: Int, on: Boolean, changed: (Boolean) -> Unit): Switch {
        val s = Switch(this)
        s.setText(label)
        s.setTextSize(android.util.TypedValue.COMPLEX_UNIT_SP, 16f)
        s.setTextColor(Ui.color(this, R.color.text_primary))
        s.minHeight = Ui.dp(this, 48)
        s.setPadding(0, Ui.dp(this, 8), 0, 0)
        s.isChecked = on
        s.setOnCheckedChangeListener { _: CompoundButton, checked: Boolean -> changed(checked) }
        col.addView(s)
        col.addView(Ui.note(this, getString(why)))
        return s
    }

    private fun number(col: LinearLayout, label: Int, why: Int, value: Int): EditText {
        col.addView(label(getString(label)))
        val e = edit()
        e.inputType = InputType.TYPE_CLASS_NUMBER
        e.setText(value.toString())
        col.addView(e)
        col.addView(Ui.note(this, getString(why)))
        return e
    }

    /** Shows each value masked (as the core's evidence masks) until the field has focus. */
    private object MaskValues : TransformationMethod {
        override fun getTransformation(source: CharSequence, view: View): CharSequence {
            val out = StringBuilder()
            val token = StringBuilder()
            fun flush() {
                out.append(Masking.mask(token.toString()))
                token.setLength(0)
            }
            for (c in source) {
                if (c == '\n' || c == ',' || c == ';' || c == ' ') {
                    flush()
                    out.append(c)
                } else {
                    token.append(c)
                }
            }
            flush()
            return out.toString()
        }

        override fun onFocusChanged(view: View, sourceText: CharSequence, focused: Boolean, direction: Int, previouslyFocusedRect: android.graphics.Rect?) = Unit
    }

    private fun label(text: String) = Ui.text(this, text).apply { setPadding(0, Ui.dp(this@SettingsActivity, 12), 0, 0) }

    private fun edit() = EditText(this).apply {
        setTextColor(Ui.color(this@SettingsActivity, R.color.text_primary))
        setHintTextColor(Ui.color(this@SettingsActivity, R.color.text_secondary))
    }

    private fun field(col: LinearLayout, key: String, label: Int, hint: Int, value: String, secret: Boolean = true) {
        col.addView(label(getString(label)))
        val e = edit()
        e.setHint(hint)
        e.inputType = InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_MULTI_LINE or InputType.TYPE_TEXT_FLAG_NO_SUGGESTIONS
        e.setText(value)
        if (secret) {
            e.transformationMethod = MaskValues
            e.setOnFocusChangeListener { v, focused ->
                (v as EditText).transformationMethod = if (focused) null else MaskValues
            }
        }
        col.addView(e)
        fields[key] = e
    }

    private fun text(key: String) = fields[key]?.text?.toString().orEmpty()

    private fun save(quiet: Boolean) {
        problems.removeAllViews()
        val typed = TypedIdentifiers(
            region = text("region"), imei = text("imei"), imsi = text("imsi"), iccid = text("iccid"),
            phone = text("phone"), serial = text("serial"), mac = text("mac"), email = text("email"),
            adId = text("ad_id"), lat = text("lat"), lon = text("lon"), radiusM = text("radius_m"),
        )
        // Without the core the identifiers cannot be checked: they keep what was saved, the
        // other settings are still saved.
        val loaded = phoneHome.worker.ensureLoaded()
        if (!loaded) problems.addView(Ui.warning(this, getString(R.string.error_core_missing, phoneHome.worker.loadError)))
        val (ids, found) = if (loaded) Validation.parse(typed, NativeCore::validateIdentifiers) else null to emptyList()
        val bad = found.map { getString(R.string.problem_line, it.field, Masking.mask(it.value), it.message) }.toMutableList()
        Settings.mtuProblem(mtu.text.toString())?.let { bad.add(it) }
        Settings.scanLimitProblem(scan.text.toString())?.let { bad.add(it) }
        if (bad.isNotEmpty()) {
            for (p in bad) problems.addView(Ui.warning(this, p))
            if (!quiet) Toast.makeText(this, R.string.not_saved, Toast.LENGTH_LONG).show()
            return
        }
        settings = settings.copy(
            ipv6 = ipv6.isChecked, capture = capture.isChecked, notifyDiscoveries = notify.isChecked,
            mtu = mtu.text.toString().trim().toInt(), scanLimitKib = scan.text.toString().trim().toInt(),
            readPhone = readPhone.isChecked, readContacts = readContacts.isChecked, readSms = readSms.isChecked,
            excludedApps = store.settings().excludedApps,
            seeInsideHttps = store.settings().seeInsideHttps, interceptedApps = store.settings().interceptedApps,
        )
        store.saveSettings(settings)
        // Device ids come from the discovered screen, not from a field here: kept as they are.
        if (ids != null) store.saveTypedIdentifiers(ids.copy(deviceId = store.typedIdentifiers().deviceId))
        if (quiet) return
        if (monitor.phase == MonitorPhase.RUNNING) {
            AlertDialog.Builder(this)
                .setMessage(R.string.saved_restart)
                .setPositiveButton(R.string.restart_now) { _, _ -> restartMonitor() }
                .setNegativeButton(R.string.later, null)
                .show()
        } else {
            Toast.makeText(this, R.string.saved, Toast.LENGTH_SHORT).show()
        }
    }

    private fun restartMonitor() {
        MonitorVpnService.stop(this)
        val started = object : () -> Unit {
            override fun invoke() {
                if (monitor.phase == MonitorPhase.STOPPED) {
                    monitor.unlisten(this)
                    MonitorVpnService.start(applicationContext)
                }
            }
        }
        monitor.listen(started)
    }

    /** Reads now, on the worker, and shows what Android handed over, masked until tapped. */
    private fun showRead() {
        readResult.removeAllViews()
        readResult.addView(Ui.note(this, getString(R.string.loading)))
        val s = settings.copy(readPhone = readPhone.isChecked, readContacts = readContacts.isChecked, readSms = readSms.isChecked)
        phoneHome.worker.query({ IdentifierReader(applicationContext).read(s) }) { result, error ->
            if (isDestroyed) return@query
            readResult.removeAllViews()
            if (result == null) {
                readResult.addView(Ui.warning(this, error ?: ""))
                return@query
            }
            val ids: Identifiers = result.identifiers
            fun row(label: Int, values: List<String>) {
                if (values.isNotEmpty()) readResult.addView(Ui.revealable(this, getString(label), Masking.maskAll(values), values.joinToString(", ")))
            }
            ids.region?.let { readResult.addView(Ui.text(this, getString(R.string.read_region, it))) }
            row(R.string.field_imei, ids.imei)
            row(R.string.field_imsi, ids.imsi)
            row(R.string.field_iccid, ids.iccid)
            row(R.string.field_phone, ids.phone)
            row(R.string.field_serial, ids.serial)
            row(R.string.field_carrier, ids.carrier)
            row(R.string.field_android_id, ids.androidId)
            if (ids.contacts.isNotEmpty()) readResult.addView(Ui.text(this, resources.getQuantityString(R.plurals.read_contacts_count, ids.contacts.size, ids.contacts.size)))
            if (ids.sms.isNotEmpty()) readResult.addView(Ui.text(this, resources.getQuantityString(R.plurals.read_sms_count, ids.sms.size, ids.sms.size)))
            for (n in result.notes) readResult.addView(Ui.warning(this, n))
            if (ids.count == 0 && result.notes.isEmpty()) readResult.addView(Ui.note(this, getString(R.string.read_nothing)))
        }
    }
}
