package org.phonehome.app

import android.app.Activity
import android.content.Context
import android.graphics.Typeface
import android.os.Build
import android.util.TypedValue
import android.view.Gravity
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView

/** Small helpers to build the screens in code: platform views only, no AndroidX. */
object Ui {
    fun dp(context: Context, v: Int): Int =
        TypedValue.applyDimension(TypedValue.COMPLEX_UNIT_DIP, v.toFloat(), context.resources.displayMetrics).toInt()

    fun column(context: Context): LinearLayout = LinearLayout(context).apply {
        orientation = LinearLayout.VERTICAL
        val p = dp(context, 16)
        setPadding(p, p, p, p)
    }

    /** A scrolling page whose content is [content]; returns the scroll view to pass to setContentView. */
    fun page(activity: Activity, content: View): View {
        val scroll = ScrollView(activity)
        scroll.addView(content, ViewGroup.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT))
        fitSystemBars(scroll)
        return scroll
    }

    /**
     * From Android 15 (target 35+) windows draw behind the system bars: pad the content
     * by the bars so nothing hides under the navigation bar.
     */
    fun fitSystemBars(view: View) {
        if (Build.VERSION.SDK_INT < 30) return
        val base = intArrayOf(view.paddingLeft, view.paddingTop, view.paddingRight, view.paddingBottom)
        view.setOnApplyWindowInsetsListener { v, insets ->
            val bars = insets.getInsets(android.view.WindowInsets.Type.systemBars() or android.view.WindowInsets.Type.displayCutout())
            v.setPadding(base[0] + bars.left, base[1], base[2] + bars.right, base[3] + bars.bottom)
            insets
        }
    }

    fun title(context: Context, text: CharSequence): TextView = TextView(context).apply {
        this.text = text
        setTextSize(TypedValue.COMPLEX_UNIT_SP, 20f)
        setTypeface(typeface, Typeface.BOLD)
        setPadding(0, dp(context, 12), 0, dp(context, 4))
    }

    fun heading(context: Context, text: CharSequence): TextView = TextView(context).apply {
        this.text = text
        setTextSize(TypedValue.COMPLEX_UNIT_SP, 16f)
        setTypeface(typeface, Typeface.BOLD)
        setPadding(0, dp(context, 16), 0, dp(context, 4))
    }

    fun text(context: Context, text: CharSequence, sizeSp: Float = 14f): TextView = TextView(context).apply {
        this.text = text
        setTextSize(TypedValue.COMPLEX_UNIT_SP, sizeSp)
        setPadding(0, dp(context, 2), 0, dp(context, 2))
        setTextIsSelectable(false)
    }

    /** Secondary text: smaller and dimmer. */
    fun note(context: Context, text: CharSequence): TextView = text(context, text, 13f).apply { alpha = 0.75f }

    /** A framed warning box. */
    fun warning(context: Context, text: CharSequence): TextView = text(context, text).apply {
        val p = dp(context, 12)
        setPadding(p, p, p, p)
        setBackgroundColor(0x33FFA000)
        val lp = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT)
        lp.topMargin = dp(context, 8)
        layoutParams = lp
    }

    fun button(context: Context, text: CharSequence, onClick: () -> Unit): Button = Button(context).apply {
        this.text = text
        setOnClickListener { onClick() }
    }

    fun row(context: Context, vararg views: View): LinearLayout = LinearLayout(context).apply {
        orientation = LinearLayout.HORIZONTAL
        gravity = Gravity.CENTER_VERTICAL
        for (v in views) addView(v, LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f))
    }

    /** A value that shows masked and reveals itself on tap (and hides again on the next). */
    fun revealable(context: Context, label: String, masked: String, clear: String): TextView {
        val view = text(context, "$label: $masked")
        if (masked == clear) return view
        var shown = false
        view.setOnClickListener {
            shown = !shown
            view.text = "$label: ${if (shown) clear else masked}"
        }
        view.contentDescription = context.getString(org.phonehome.R.string.tap_to_reveal, label)
        return view
    }
}
