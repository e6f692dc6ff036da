package org.phonehome.model

import org.phonehome.core.Contract

/** One contact the user let the app read: the core looks for each of its numbers and addresses. */
data class Contact(val name: String?, val phone: List<String> = emptyList(), val email: List<String> = emptyList())

/** One SMS conversation partner and a message text, read with the user's consent. */
data class Sms(val peer: String?, val text: String?)

data class Location(val lat: Double, val lon: Double, val radiusM: Int)

/**
 * The device's identifiers, in the structure the core's identifiers file has (README,
 * "What it looks for"). Every list may be empty; the core then only looks for
 * structurally probable identifiers of that kind.
 */
data class Identifiers(
    val region: String? = null,
    val imei: List<String> = emptyList(),
    val imsi: List<String> = emptyList(),
    val iccid: List<String> = emptyList(),
    val phone: List<String> = emptyList(),
    val carrier: List<String> = emptyList(),
    val androidId: List<String> = emptyList(),
    val adId: List<String> = emptyList(),
    val serial: List<String> = emptyList(),
    /** Other device ids (OAID, VAID, install ids), such as the user adds from discovery. */
    val deviceId: List<String> = emptyList(),
    val mac: List<String> = emptyList(),
    val email: List<String> = emptyList(),
    val contacts: List<Contact> = emptyList(),
    val sms: List<Sms> = emptyList(),
    val location: Location? = null,
) {
    /** How many values the core will look for. */
    val count: Int
        get() = imei.size + imsi.size + iccid.size + phone.size + carrier.size + androidId.size +
            adId.size + serial.size + deviceId.size + mac.size + email.size + contacts.size + sms.size +
            (if (location != null) 1 else 0)

    fun toJson(): Json.Obj {
        val fields = LinkedHashMap<String, Json>()
        region?.let { fields["region"] = Json.Str(it) }
        fun list(key: String, values: List<String>) {
            if (values.isNotEmpty()) fields[key] = Json.strings(values)
        }
        list("imei", imei)
        list("imsi", imsi)
        list("iccid", iccid)
        list("phone", phone)
        list("carrier", carrier)
        list("android_id", androidId)
        list("ad_id", adId)
        list("serial", serial)
        list("device_id", deviceId)
        list("mac", mac)
        list("email", email)
        if (contacts.isNotEmpty()) {
            fields["contact"] = Json.Arr(contacts.map {
                val o = LinkedHashMap<String, Json>()
                it.name?.let { n -> o["name"] = Json.Str(n) }
                if (it.phone.isNotEmpty()) o["phone"] = Json.strings(it.phone)
                if (it.email.isNotEmpty()) o["email"] = Json.strings(it.email)
                Json.Obj(o)
            })
        }
        if (sms.isNotEmpty()) {
            fields["sms"] = Json.Arr(sms.map {
                val o = LinkedHashMap<String, Json>()
                it.peer?.let { p -> o["peer"] = Json.Str(p) }
                it.text?.let { t -> o["text"] = Json.Str(t) }
                Json.Obj(o)
            })
        }
        location?.let {
            fields["location"] = Json.obj("lat" to Json.of(it.lat), "lon" to Json.of(it.lon), "radius_m" to Json.of(it.radiusM))
        }
        return Json.Obj(fields)
    }

    /**
     * Adds [other]'s values after this one's, without repeating a value (the same IMEI read
     * from the OS and typed in by hand is looked for once).
     */
    fun plus(other: Identifiers): Identifiers {
        fun m(a: List<String>, b: List<String>) = (a + b).distinct()
        return Identifiers(
            region = region ?: other.region,
            imei = m(imei, other.imei), imsi = m(imsi, other.imsi), iccid = m(iccid, other.iccid),
            phone = m(phone, other.phone), carrier = m(carrier, other.carrier),
            androidId = m(androidId, other.androidId), adId = m(adId, other.adId),
            serial = m(serial, other.serial), deviceId = m(deviceId, other.deviceId), mac = m(mac, other.mac), email = m(email, other.email),
            contacts = (contacts + other.contacts).distinct(), sms = (sms + other.sms).distinct(),
            location = location ?: other.location,
        )
    }

    companion object {
        fun fromJson(json: Json): Identifiers {
            val o = json as? Json.Obj ?: throw JsonException("identifiers must be a JSON object")
            val loc = o["location"] as? Json.Obj
            return Identifiers(
                region = o.string("region"),
                imei = o.strings("imei"), imsi = o.strings("imsi"), iccid = o.strings("iccid"),
                phone = o.strings("phone"), carrier = o.strings("carrier"),
                androidId = o.strings("android_id"), adId = o.strings("ad_id"),
                serial = o.strings("serial"), deviceId = o.strings("device_id"), mac = o.strings("mac"), email = o.strings("email"),
                contacts = o.objects("contact").map {
                    Contact(it.string("name"), it.strings("phone"), it.strings("email"))
                },
                sms = o.objects("sms").map { Sms(it.string("peer"), it.string("text")) },
                location = loc?.let {
                    val lat = it.double("lat")
                    val lon = it.double("lon")
                    if (lat == null || lon == null) null else Location(lat, lon, (it.long("radius_m") ?: Contract.DEFAULT_RADIUS_M.toLong()).toInt())
                },
            )
        }
    }
}
