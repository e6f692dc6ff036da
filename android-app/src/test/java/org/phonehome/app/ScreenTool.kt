package org.phonehome.app

import android.app.Activity
import android.graphics.Bitmap
import android.graphics.Canvas
import android.graphics.Insets
import android.graphics.Paint
import android.graphics.Rect
import android.graphics.drawable.ColorDrawable
import android.graphics.drawable.Drawable
import android.graphics.drawable.GradientDrawable
import android.graphics.drawable.LayerDrawable
import android.os.Build
import android.os.Looper
import android.view.View
import android.view.ViewGroup
import android.view.WindowInsets
import android.widget.TextView
import java.io.File
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import org.phonehome.R
import org.phonehome.model.Contrast
import org.robolectric.Shadows.shadowOf

/**
 * What the screen tests share: waiting for the worker, giving the window system bars
 * (Robolectric gives none), checking a laid-out screen the way a reviewer would look at
 * it, and writing it as a PNG.
 */
object ScreenTool {
    /** Status bar and navigation bar of a typical phone (gesture navigation is 24-48 dp). */
    const val STATUS_DP = 24
    const val NAV_DP = 48

    /** Runs the worker's queue and the main looper until both are quiet. */
    fun settle(activity: Activity, rounds: Int = 4) {
        repeat(rounds) {
            val done = CountDownLatch(1)
            activity.phoneHome.worker.execute { done.countDown() }
            check(done.await(60, TimeUnit.SECONDS)) { "the worker did not finish in 60 s" }
            shadowOf(Looper.getMainLooper()).idle()
        }
    }

    /** Polls [condition] (running the main looper in between) for up to [seconds]. */
    fun waitFor(seconds: Int, what: String, condition: () -> Boolean) {
        val end = System.nanoTime() + seconds * 1_000_000_000L
        while (!condition()) {
            check(System.nanoTime() < end) { "waited $seconds s for $what" }
            shadowOf(Looper.getMainLooper()).idle()
            Thread.sleep(50)
        }
    }

    /**
     * Hands the window a status bar and a navigation bar, as a phone has, and lays it out
     * again. They go to the decor view, so the platform's own code decides, per API level,
     * whether the app sees them (35+: edge to edge) or the decor consumes them (below).
     */
    fun giveSystemBars(activity: Activity) {
        val density = activity.resources.displayMetrics.density
        val top = (STATUS_DP * density).toInt()
        val bottom = (NAV_DP * density).toInt()
        val decor = activity.window.decorView
        decor.dispatchApplyWindowInsets(bars(top, bottom))
        relayout(activity)
    }

    fun relayout(activity: Activity) {
        val decor = activity.window.decorView
        val dm = activity.resources.displayMetrics
        decor.measure(
            View.MeasureSpec.makeMeasureSpec(dm.widthPixels, View.MeasureSpec.EXACTLY),
            View.MeasureSpec.makeMeasureSpec(dm.heightPixels, View.MeasureSpec.EXACTLY),
        )
        decor.layout(0, 0, dm.widthPixels, dm.heightPixels)
    }

    @Suppress("DEPRECATION")
    private fun bars(top: Int, bottom: Int): WindowInsets = when {
        Build.VERSION.SDK_INT >= 30 -> WindowInsets.Builder()
            .setInsets(WindowInsets.Type.statusBars(), Insets.of(0, top, 0, 0))
            .setInsets(WindowInsets.Type.navigationBars(), Insets.of(0, 0, 0, bottom))
            .build()
        Build.VERSION.SDK_INT == 29 -> WindowInsets.Builder().setSystemWindowInsets(Insets.of(0, top, 0, bottom)).build()
        // Before 29 the only way to make one is the framework's own (hidden) constructor.
        else -> WindowInsets::class.java.getDeclaredConstructor(Rect::class.java).newInstance(Rect(0, top, 0, bottom))
    }

    fun bounds(v: View): Rect {
        val at = IntArray(2)
        v.getLocationInWindow(at)
        return Rect(at[0], at[1], at[0] + v.width, at[1] + v.height)
    }

    fun all(v: View): List<View> =
        listOf(v) + if (v is ViewGroup) (0 until v.childCount).flatMap { all(v.getChildAt(it)) } else emptyList()

    fun texts(activity: Activity): List<TextView> =
        all(activity.window.decorView).filterIsInstance<TextView>().filter { it.isShown }

    /** Every text on screen, in order, for assertions on what the user reads. */
    fun screenText(activity: Activity): String = texts(activity).joinToString("\n") { it.text.toString() }

    /**
     * What a reviewer would object to on this screen, as sentences (empty when none):
     * the app bar or content under the status bar, content under the app bar or the
     * navigation bar, a text cut with "…", a text below 4.5:1 contrast on what is behind it.
     */
    fun problems(activity: Screen): List<String> {
        val out = mutableListOf<String>()
        val density = activity.resources.displayMetrics.density
        val statusBottom = (STATUS_DP * density).toInt()
        val navTop = activity.resources.displayMetrics.heightPixels - (NAV_DP * density).toInt()
        val bar = activity.appBar
        val toolbar = (bar as ViewGroup).getChildAt(0)
        val barBox = bounds(bar)
        if (bounds(toolbar).top < statusBottom) out.add("the app bar's toolbar starts at y=${bounds(toolbar).top}, under the status bar (ends at $statusBottom)")
        val body = activity.body
        val content = body.getChildAt(0)
        if (bounds(content).top < barBox.bottom) out.add("the content starts at y=${bounds(content).top}, under the app bar (ends at ${barBox.bottom})")
        if (bounds(content).bottom > navTop) out.add("the content ends at y=${bounds(content).bottom}, under the navigation bar (starts at $navTop)")
        for (v in all(content).filter { it.isShown && it.height > 0 }) {
            val b = bounds(v)
            if (b.top < barBox.bottom && b.bottom > 0) out.add("${describe(v)} at y=${b.top} is under the app bar")
        }
        val window = windowColor(activity)
        for (t in texts(activity)) {
            val layout = t.layout ?: continue
            for (line in 0 until layout.lineCount) {
                if (layout.getEllipsisCount(line) > 0) out.add("${describe(t)} is cut with an ellipsis")
            }
            if (t.height in 1 until layout.height) out.add("${describe(t)} is taller (${layout.height}) than its view (${t.height})")
            if (!t.isEnabled) continue
            val empty = t.text.isNullOrEmpty()
            if (empty && t.hint.isNullOrEmpty()) continue
            val fg = if (empty) t.currentHintTextColor else t.currentTextColor
            val bg = backgroundOf(t) ?: window
            val ratio = Contrast.ratio(Contrast.over(fg, bg), bg)
            if (ratio < 4.5) out.add("${describe(t)}: contrast ${"%.2f".format(ratio)}:1 (text #${Integer.toHexString(fg)} on #${Integer.toHexString(bg)})")
        }
        return out
    }

    private fun describe(v: View): String = when (v) {
        is TextView -> "\"${v.text.toString().ifEmpty { v.hint?.toString() ?: "" }.take(40)}\""
        else -> v.javaClass.simpleName
    }

    private fun windowColor(activity: Activity): Int = colorOf(activity.window.decorView.background) ?: activity.getColor(R.color.background)

    /** The opaque colour drawn behind [v]: its own background or its nearest ancestor's. */
    private fun backgroundOf(v: View): Int? {
        var p: View? = v
        while (p != null) {
            colorOf(p.background)?.let { return it }
            p = p.parent as? View
        }
        return null
    }

    private fun colorOf(d: Drawable?): Int? = when (d) {
        is ColorDrawable -> d.color.takeIf { (it ushr 24) == 0xFF }
        is GradientDrawable -> d.color?.defaultColor?.takeIf { (it ushr 24) == 0xFF }
        // A ripple's mask layer is never drawn: only its content layers count.
        is LayerDrawable -> (0 until d.numberOfLayers).asSequence().filter { d.getId(it) != android.R.id.mask }
            .mapNotNull { colorOf(d.getDrawable(it)) }.firstOrNull()
        else -> null
    }

    /**
     * The window as a PNG, with the bars it was given shaded (Robolectric draws none), so a
     * reader sees what would sit under them.
     */
    fun png(activity: Activity, file: File) {
        val decor = activity.window.decorView
        val bitmap = Bitmap.createBitmap(decor.width, decor.height, Bitmap.Config.ARGB_8888)
        val canvas = Canvas(bitmap)
        decor.draw(canvas)
        val density = activity.resources.displayMetrics.density
        val shade = Paint().apply { color = 0x66000000 }
        canvas.drawRect(0f, 0f, decor.width.toFloat(), STATUS_DP * density, shade)
        canvas.drawRect(0f, decor.height - NAV_DP * density, decor.width.toFloat(), decor.height.toFloat(), shade)
        file.parentFile?.mkdirs()
        file.outputStream().use { bitmap.compress(Bitmap.CompressFormat.PNG, 100, it) }
    }
}
