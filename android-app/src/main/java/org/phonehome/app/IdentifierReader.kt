package org.phonehome.app

import android.Manifest
import android.annotation.SuppressLint
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.provider.ContactsContract
import android.provider.Settings.Secure
import android.provider.Telephony
import android.telephony.SubscriptionManager
import android.telephony.TelephonyManager
import org.phonehome.R
import org.phonehome.model.Contact
import org.phonehome.model.Identifiers
import org.phonehome.model.Settings
import org.phonehome.model.Sms

/**
 * Reads the identifiers Android lets this app see. What it refuses (the IMEI, IMSI and SIM
 * serial are privileged from Android 10 on) the user can type in; [Result.notes] says what
 * could not be read and why. Contacts and SMS are read only with the user's consent toggle
 * and permission, and only a bounded number of them.
 */
class IdentifierReader(private val context: Context) {
    data class Result(val identifiers: Identifiers, val notes: List<String>)

    companion object {
        const val MAX_CONTACTS = 200
        const val MAX_SMS = 50
    }

    private fun granted(permission: String): Boolean =
        context.checkSelfPermission(permission) == PackageManager.PERMISSION_GRANTED

    fun read(settings: Settings): Result {
        val notes = ArrayList<String>()
        val tm = context.getSystemService(Context.TELEPHONY_SERVICE) as? TelephonyManager
        val region = (tm?.simCountryIso?.takeIf { it.length == 2 } ?: tm?.networkCountryIso?.takeIf { it.length == 2 })?.uppercase()
        val carrier = listOfNotNull(tm?.simOperatorName, tm?.networkOperatorName).map { it.trim() }.filter { it.isNotEmpty() }.distinct()
        var ids = Identifiers(region = region, carrier = carrier)

        // From Android 8 ANDROID_ID differs per signing key: ours says nothing about other apps'.
        if (Build.VERSION.SDK_INT < 26) {
            Secure.getString(context.contentResolver, Secure.ANDROID_ID)?.let { ids = ids.copy(androidId = listOf(it)) }
        }

        if (settings.readPhone && tm != null) {
            if (granted(Manifest.permission.READ_PHONE_STATE)) {
                ids = ids.plus(readTelephony(tm, notes))
            } else {
                notes.add(context.getString(R.string.note_phone_permission))
            }
            ids = ids.plus(Identifiers(phone = readPhoneNumbers(tm)))
        }
        if (settings.readContacts) {
            if (granted(Manifest.permission.READ_CONTACTS)) ids = ids.copy(contacts = readContacts())
            else notes.add(context.getString(R.string.note_contacts_permission))
        }
        if (settings.readSms) {
            if (granted(Manifest.permission.READ_SMS)) ids = ids.copy(sms = readSms())
            else notes.add(context.getString(R.string.note_sms_permission))
        }
        return Result(ids, notes)
    }

    /** Each value on its own: one refusal must not lose the others. */
    private inline fun attempt(read: () -> String?): String? = try {
        read()?.trim()?.takeIf { it.isNotEmpty() && it != "unknown" }
    } catch (_: SecurityException) {
        null
    } catch (_: UnsupportedOperationException) {
        null
    }

    @SuppressLint("MissingPermission", "HardwareIds")
    @Suppress("DEPRECATION")
    private fun readTelephony(tm: TelephonyManager, notes: MutableList<String>): Identifiers {
        val imei = ArrayList<String>()
        if (Build.VERSION.SDK_INT >= 26) {
            for (slot in 0 until slotCount(tm)) attempt { tm.getImei(slot) }?.let { imei.add(it) }
        } else {
            attempt { tm.deviceId }?.let { imei.add(it) }
        }
        val imsi = listOfNotNull(attempt { tm.subscriberId })
        val iccid = listOfNotNull(attempt { tm.simSerialNumber })
        val serial = listOfNotNull(if (Build.VERSION.SDK_INT >= 26) attempt { Build.getSerial() } else attempt { Build.SERIAL })
        // Android 10+ keeps these from ordinary apps: say so, and where to find them.
        if (imei.isEmpty()) notes.add(context.getString(R.string.note_imei_privileged))
        if (imsi.isEmpty() && iccid.isEmpty() && tm.simState == TelephonyManager.SIM_STATE_READY) {
            notes.add(context.getString(R.string.note_imsi_privileged))
        }
        return Identifiers(imei = imei.distinct(), imsi = imsi, iccid = iccid, serial = serial)
    }

    @Suppress("DEPRECATION")
    private fun slotCount(tm: TelephonyManager): Int =
        if (Build.VERSION.SDK_INT >= 30) tm.activeModemCount.coerceAtLeast(1) else tm.phoneCount.coerceAtLeast(1)

    /** Every active SIM's number: SubscriptionManager.getPhoneNumber on 33+, the older calls below. */
    @SuppressLint("MissingPermission", "HardwareIds")
    @Suppress("DEPRECATION")
    private fun readPhoneNumbers(tm: TelephonyManager): List<String> {
        val numbers = ArrayList<String>()
        val numbersPermission = if (Build.VERSION.SDK_INT >= 26) Manifest.permission.READ_PHONE_NUMBERS else Manifest.permission.READ_PHONE_STATE
        if (!granted(numbersPermission) && !granted(Manifest.permission.READ_PHONE_STATE)) return numbers
        val sm = context.getSystemService(Context.TELEPHONY_SUBSCRIPTION_SERVICE) as? SubscriptionManager
        val subs = try {
            sm?.activeSubscriptionInfoList.orEmpty()
        } catch (_: SecurityException) {
            emptyList()
        }
        for (sub in subs) {
            val n = if (Build.VERSION.SDK_INT >= 33) attempt { sm?.getPhoneNumber(sub.subscriptionId) } else attempt { sub.number }
            n?.let { numbers.add(it) }
        }
        attempt { tm.line1Number }?.let { numbers.add(it) }
        return numbers.distinct()
    }

    /** The numbers and addresses of the most recently changed contacts, at most [MAX_CONTACTS]. */
    private fun readContacts(): List<Contact> {
        val byId = LinkedHashMap<Long, Triple<String?, MutableList<String>, MutableList<String>>>()
        val cr = context.contentResolver
        fun collect(uri: android.net.Uri, column: String, phone: Boolean) {
            val projection = arrayOf(ContactsContract.Data.CONTACT_ID, ContactsContract.Data.DISPLAY_NAME, column)
            val order = "${ContactsContract.Data.CONTACT_LAST_UPDATED_TIMESTAMP} DESC"
            try {
                cr.query(uri, projection, null, null, order)?.use { c ->
                    while (c.moveToNext()) {
                        val id = c.getLong(0)
                        if (id !in byId && byId.size >= MAX_CONTACTS) continue
                        val entry = byId.getOrPut(id) { Triple(c.getString(1), ArrayList(), ArrayList()) }
                        val value = c.getString(2)?.trim() ?: continue
                        if (value.isEmpty()) continue
                        (if (phone) entry.second else entry.third).add(value)
                    }
                }
            } catch (_: SecurityException) {
            } catch (_: IllegalArgumentException) {
            }
        }
        collect(ContactsContract.CommonDataKinds.Phone.CONTENT_URI, ContactsContract.CommonDataKinds.Phone.NUMBER, true)
        collect(ContactsContract.CommonDataKinds.Email.CONTENT_URI, ContactsContract.CommonDataKinds.Email.ADDRESS, false)
        return byId.values.map { (name, phones, emails) -> Contact(name, phones.distinct(), emails.distinct()) }
    }

    /** The peers and texts of the latest [MAX_SMS] messages, sent or received. */
    private fun readSms(): List<Sms> {
        val out = ArrayList<Sms>()
        try {
            context.contentResolver.query(
                Telephony.Sms.CONTENT_URI,
                arrayOf(Telephony.Sms.ADDRESS, Telephony.Sms.BODY),
                null, null, "${Telephony.Sms.DATE} DESC",
            )?.use { c ->
                while (c.moveToNext() && out.size < MAX_SMS) out.add(Sms(c.getString(0), c.getString(1)))
            }
        } catch (_: SecurityException) {
        } catch (_: IllegalArgumentException) {
        }
        return out
    }
}
