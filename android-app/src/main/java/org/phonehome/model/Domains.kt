package org.phonehome.model

/** Names of destinations, reduced to what a company registers. */
object Domains {
    /**
     * Second-level labels under which country registries sell names (`example.co.uk`): the
     * core's generic rule (GENERIC_SECOND_LEVEL in rust-core/catalog/src/registrable.rs).
     * Only for records from before the core sent each record's `domain` (computed with its
     * full suffix list: `ltd.uk`, hosting platforms such as `appspot.com`), which the app
     * groups by whenever it is there ([Finding.groupDomain]).
     */
    private val SECOND_LEVEL = setOf("ac", "co", "com", "edu", "gob", "go", "gov", "mil", "ne", "net", "or", "org")

    /**
     * The part of [host] a company registers: the last two labels, or three under a
     * country's second-level domain (`api.example.co.uk` -> `example.co.uk`). An address
     * (a destination that had no name, `203.0.113.7:443`, `[2001:db8::1]:443`) is kept whole.
     */
    fun registrable(host: String): String {
        val name = host.removeSuffix(".")
        if (isAddress(name)) return name
        val labels = name.split('.')
        if (labels.size <= 2) return name
        val tld = labels[labels.size - 1]
        val sld = labels[labels.size - 2]
        val keep = if (tld.length == 2 && sld in SECOND_LEVEL) 3 else 2
        return labels.takeLast(keep).joinToString(".")
    }

    /** An IP address, with or without a port: what the core records when no name was seen. */
    private fun isAddress(s: String): Boolean =
        s.startsWith("[") || ':' in s || (s.isNotEmpty() && s.all { it.isDigit() || it == '.' })
}
