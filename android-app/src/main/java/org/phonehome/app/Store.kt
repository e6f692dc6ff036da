package org.phonehome.app

import android.content.Context
import java.io.File
import org.phonehome.model.DiscoveredList
import org.phonehome.model.FirstSeen
import org.phonehome.model.Identifiers
import org.phonehome.model.Json
import org.phonehome.model.Settings

/**
 * The app's own files, all in app-private storage (filesDir): nothing here is readable by
 * other apps, and the manifest keeps it out of backups.
 */
class Store(context: Context) {
    private val dir: File = context.filesDir

    /** How the user last chose to see the records, remembered across launches. */
    private val view = context.applicationContext.getSharedPreferences(VIEW_PREFERENCES, Context.MODE_PRIVATE)

    companion object {
        private const val VIEW_PREFERENCES = "view"
        private const val FINDINGS_BY_APP = "findings_by_app"
    }

    /** Whether the findings screen groups by app rather than by company (its toggle). */
    fun findingsByApp(): Boolean = view.getBoolean(FINDINGS_BY_APP, false)

    fun saveFindingsByApp(byApp: Boolean) = view.edit().putBoolean(FINDINGS_BY_APP, byApp).apply()

    /** The core's captures (the records themselves are in [RecordStore]). */
    val recordsDir: File get() = File(dir, "records").also { it.mkdirs() }

    /**
     * Where the core's discovery keeps what it learned between sessions (`discovery.json`,
     * the candidate tokens themselves; the core creates it owner-only).
     */
    val discoveryDir: File get() = File(dir, "discovery")

    /**
     * The TLS interception CA (`ca.key` owner-only, `ca.pem`), made by the core on first
     * use; only its certificate ever leaves, when the user exports it.
     */
    val caDir: File get() = File(dir, "ca")

    private val settingsFile get() = File(dir, "settings.txt")
    private val identifiersFile get() = File(dir, "identifiers.json")
    private val firstSeenFile get() = File(dir, "first-seen.txt")
    private val ignoredFile get() = File(dir, "discovered-ignored.txt")

    fun settings(): Settings = read(settingsFile)?.let { Settings.parse(it).first } ?: Settings()

    fun saveSettings(s: Settings) = write(settingsFile, s.serialise())

    /** What the user typed in (the identifiers file's structure, as the core reads it). */
    fun typedIdentifiers(): Identifiers =
        read(identifiersFile)?.let { runCatching { Identifiers.fromJson(Json.parse(it)) }.getOrNull() } ?: Identifiers()

    fun saveTypedIdentifiers(ids: Identifiers) = write(identifiersFile, ids.toJson().toString())

    /** Adds a discovered identifier to the typed ones: the core looks for it exactly from its next start. */
    fun addDeviceId(value: String) = saveTypedIdentifiers(DiscoveredList.add(typedIdentifiers(), value))

    /** Discovered identifiers the user chose to ignore: the screen no longer lists them. */
    fun ignoredDiscovered(): Set<String> = read(ignoredFile)?.lines()?.filter { it.isNotBlank() }?.toSet() ?: emptySet()

    fun ignoreDiscovered(value: String) = write(ignoredFile, (ignoredDiscovered() + value).sorted().joinToString("\n"))

    fun loadFirstSeen(into: FirstSeen) {
        read(firstSeenFile)?.let { into.load(it) }
    }

    fun saveFirstSeen(seen: FirstSeen) = write(firstSeenFile, seen.serialise())

    private fun read(f: File): String? = try {
        if (f.exists()) f.readText() else null
    } catch (_: java.io.IOException) {
        null
    }

    // Write then rename, so a crash mid-write never leaves half a file.
    @Synchronized
    private fun write(f: File, text: String) {
        val tmp = File(f.parentFile, f.name + ".tmp")
        tmp.writeText(text)
        if (!tmp.renameTo(f)) {
            f.delete()
            tmp.renameTo(f)
        }
    }
}
