package org.phonehome.model

/** What the notification of a first leak says about where it went. */
object FirstLeak {
    /** The company that received it, as the title names it; null when the catalog does not know the host. */
    fun company(f: Finding): String? = f.company?.takeIf { it.isNotBlank() }

    /**
     * "AppsFlyer attribution (t.appsflyer.com, third party)", with the owners when one owns
     * it ("Tapjoy advertising, owned by ironSource > Unity (…)"); the host alone when the
     * catalog does not know it.
     */
    fun where(f: Finding): String {
        val party = party(f.party)
        val label = Companies.label(f.company, f.category) ?: return if (party == null) f.destination else "${f.destination} ($party)"
        val owned = f.parent?.takeIf { it.isNotBlank() }?.let { ", owned by $it" } ?: ""
        return "$label$owned (${listOfNotNull(f.destination, party).joinToString(", ")})"
    }

    private fun party(p: String?): String? = when (p) {
        "first" -> "first party"
        "third" -> "third party"
        else -> null
    }
}
