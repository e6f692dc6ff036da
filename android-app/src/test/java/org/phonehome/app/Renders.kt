package org.phonehome.app

import android.content.Intent
import android.os.Build
import android.view.View
import java.io.File
import org.junit.Assert.assertEquals
import org.robolectric.Robolectric
import org.robolectric.RuntimeEnvironment

/**
 * Opens every screen in every look the issue names (360 and 411 dp wide, light and dark,
 * font scale 1.3), gives each window system bars, checks it with [ScreenTool.problems] and,
 * when the system property `phonehome.screenshots` names a folder, writes it there as
 * `<screen>-<width>-<theme>-api<N>.png` (android-app/screenshots sets it).
 */
object Renders {
    data class Look(val width: Int, val height: Int, val night: Boolean) {
        val qualifiers get() = "w${width}dp-h${height}dp-${if (night) "night" else "notnight"}-xhdpi"
        val name get() = "w$width-${if (night) "dark" else "light"}"
    }

    val looks = listOf(Look(360, 780, false), Look(360, 780, true), Look(411, 891, false), Look(411, 891, true))
    const val FONT_SCALE = 1.3f

    /** The screens, by name, with the intent that opens each (extras from the records when there are some). */
    fun screens(app: String?, flow: Long?, session: Long?): List<Pair<String, () -> Intent>> {
        val c = RuntimeEnvironment.getApplication()
        return listOf(
            "status" to { Intent(c, StatusActivity::class.java) },
            "findings" to { Intent(c, FindingsActivity::class.java) },
            "app" to { Intent(c, FindingsActivity::class.java).putExtra(FindingsActivity.EXTRA_APP, app) },
            "flow" to {
                Intent(c, FlowActivity::class.java).putExtra(FlowActivity.EXTRA_FLOW, flow ?: 1L).putExtra(FlowActivity.EXTRA_SESSION, session ?: -1L)
            },
            "apps" to { Intent(c, AppsActivity::class.java) },
            "discovered" to { Intent(c, DiscoveredActivity::class.java) },
            "settings" to { Intent(c, SettingsActivity::class.java) },
            "excluded" to { Intent(c, ExcludedAppsActivity::class.java) },
            "intercept" to { Intent(c, InterceptActivity::class.java) },
            "export" to { Intent(c, ExportActivity::class.java) },
        )
    }

    /**
     * Every screen in every look: the problems found (empty when none). [write] limits which
     * (screen, look) pairs are written as PNGs, to keep the committed set small.
     */
    fun checkAll(
        screens: List<Pair<String, () -> Intent>>,
        write: (String, Look) -> Boolean = { _, _ -> true },
        extraCheck: (String, Screen) -> Unit = { _, _ -> },
    ): List<String> {
        val out = System.getProperty("phonehome.screenshots")?.let(::File)
        val problems = mutableListOf<String>()
        for (look in looks) {
            RuntimeEnvironment.setQualifiers(look.qualifiers)
            RuntimeEnvironment.setFontScale(FONT_SCALE)
            for ((name, intent) in screens) {
                val i = intent()
                val controller = Robolectric.buildActivity(activityClass(i), i).setup()
                val activity = controller.get()
                assertEquals(FONT_SCALE, activity.resources.configuration.fontScale, 0.001f)
                ScreenTool.settle(activity)
                ScreenTool.giveSystemBars(activity)
                extraCheck(name, activity)
                for (p in ScreenTool.problems(activity)) problems.add("$name ${look.name} api${Build.VERSION.SDK_INT}: $p")
                if (out != null && write(name, look)) ScreenTool.png(activity, File(out, "$name-${look.name}-api${Build.VERSION.SDK_INT}.png"))
                controller.pause().stop().destroy()
            }
        }
        return problems
    }

    /**
     * Writes [name] in [look] scrolled to its end as `<name>-end-<look>-api<N>.png`, when
     * `phonehome.screenshots` names a folder: what sits below the first screenful (the
     * quieter cards of what servers sent back).
     */
    fun writeScrolledToEnd(name: String, intent: Intent, look: Look) =
        writeScrolled("$name-end", intent, look) { scroll, content ->
            content.height + scroll.paddingTop + scroll.paddingBottom - scroll.height
        }

    /**
     * Writes [name] in [look] scrolled so that the first line reading [text] is at the top, as
     * `<name>-<tag>-<look>-api<N>.png`: a card further down (another company's).
     */
    fun writeScrolledTo(name: String, tag: String, text: String, intent: Intent, look: Look) =
        writeScrolled("$name-$tag", intent, look) { _, content ->
            val line = ScreenTool.all(content).filterIsInstance<android.widget.TextView>().first { it.text.toString() == text }
            // The line's top within the scrolled content, less a margin so its card shows whole.
            generateSequence(line as View) { it.parent as? View }.takeWhile { it !== content }.sumOf { it.top } - Ui.dp(content.context, 24)
        }

    private fun writeScrolled(file: String, intent: Intent, look: Look, to: (android.widget.ScrollView, View) -> Int) {
        val out = System.getProperty("phonehome.screenshots")?.let(::File) ?: return
        RuntimeEnvironment.setQualifiers(look.qualifiers)
        RuntimeEnvironment.setFontScale(FONT_SCALE)
        val controller = Robolectric.buildActivity(activityClass(intent), intent).setup()
        val activity = controller.get()
        ScreenTool.settle(activity)
        ScreenTool.giveSystemBars(activity)
        val scroll = activity.body.getChildAt(0) as? android.widget.ScrollView
        val content = scroll?.getChildAt(0)
        if (scroll != null && content != null) scroll.scrollTo(0, maxOf(0, to(scroll, content)))
        ScreenTool.png(activity, File(out, "$file-${look.name}-api${Build.VERSION.SDK_INT}.png"))
        controller.pause().stop().destroy()
    }

    @Suppress("UNCHECKED_CAST")
    private fun activityClass(intent: Intent): Class<Screen> = Class.forName(intent.component!!.className) as Class<Screen>
}
