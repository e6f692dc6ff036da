package org.phonehome.app

import android.content.Context
import android.content.res.ColorStateList
import android.graphics.Typeface
import android.graphics.drawable.Drawable
import android.graphics.drawable.GradientDrawable
import android.graphics.drawable.RippleDrawable
import android.os.Build
import android.util.TypedValue
import android.view.Gravity
import android.view.View
import android.view.ViewGroup
import android.view.WindowInsets
import android.widget.Button
import android.widget.ImageView
import android.widget.LinearLayout
import android.widget.TextView
import org.phonehome.R

/**
 * The screens' building blocks, in code: platform views only, no AndroidX. Colours come
 * from res/values(-night)/colors.xml, whose text/background pairs ContrastTest checks.
 */
object Ui {
    fun dp(context: Context, v: Int): Int =
        TypedValue.applyDimension(TypedValue.COMPLEX_UNIT_DIP, v.toFloat(), context.resources.displayMetrics).toInt()

    fun color(context: Context, id: Int): Int = context.getColor(id)

    /** Text sizes and colours, one per role, so every screen reads the same. */
    enum class Style(val sp: Float, val bold: Boolean, val colorRes: Int) {
        DISPLAY(26f, true, R.color.text_primary),
        TITLE(20f, true, R.color.text_primary),
        HEADING(16f, true, R.color.text_primary),
        BODY(15f, false, R.color.text_primary),
        SECONDARY(14f, false, R.color.text_secondary),
    }

    fun text(context: Context, text: CharSequence, style: Style = Style.BODY): TextView = TextView(context).apply {
        this.text = text
        setTextSize(TypedValue.COMPLEX_UNIT_SP, style.sp)
        setTextColor(color(context, style.colorRes))
        if (style.bold) setTypeface(Typeface.create("sans-serif-medium", Typeface.NORMAL))
        setLineSpacing(0f, 1.1f)
        layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT)
    }

    fun title(context: Context, text: CharSequence): TextView = text(context, text, Style.TITLE)

    fun heading(context: Context, text: CharSequence): TextView = text(context, text, Style.HEADING).apply {
        setPadding(0, dp(context, 12), 0, dp(context, 4))
    }

    /** Secondary text: smaller, in the secondary colour (never dimmed by alpha: contrast stays measurable). */
    fun note(context: Context, text: CharSequence): TextView = text(context, text, Style.SECONDARY)

    /** Masked evidence and identifier values: fixed width, so masks line up. */
    fun mono(context: Context, text: CharSequence): TextView = text(context, text, Style.SECONDARY).apply {
        typeface = Typeface.MONOSPACE
    }

    fun rounded(fill: Int, radiusPx: Float, stroke: Int? = null, strokePx: Int = 0): GradientDrawable = GradientDrawable().apply {
        setColor(fill)
        cornerRadius = radiusPx
        if (stroke != null) setStroke(strokePx, stroke)
    }

    /** A column with a little space around it. */
    fun column(context: Context, padDp: Int = 16): LinearLayout = LinearLayout(context).apply {
        orientation = LinearLayout.VERTICAL
        val p = dp(context, padDp)
        setPadding(p, p / 2, p, p)
    }

    /** A rounded surface that groups one topic. */
    fun card(context: Context, fill: Int = R.color.surface): LinearLayout = LinearLayout(context).apply {
        orientation = LinearLayout.VERTICAL
        background = rounded(color(context, fill), dp(context, 16).toFloat())
        val p = dp(context, 16)
        setPadding(p, p - dp(context, 4), p, p)
        layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
            topMargin = dp(context, 12)
        }
    }

    /** Something the user should know: its own card, in the warning colours. */
    fun warning(context: Context, text: CharSequence): View {
        val box = card(context, R.color.warning)
        box.addView(text(context, text).apply { setTextColor(color(context, R.color.on_warning)) })
        return box
    }

    enum class ButtonKind { PRIMARY, DANGER, OUTLINED }

    /** A full-width button, at least 48 dp tall (touch target), filled or outlined. */
    fun button(context: Context, text: CharSequence, kind: ButtonKind = ButtonKind.PRIMARY, onClick: () -> Unit): Button =
        Button(context, null, 0, 0).apply {
            this.text = text
            isAllCaps = false
            setTextSize(TypedValue.COMPLEX_UNIT_SP, 16f)
            setTypeface(Typeface.create("sans-serif-medium", Typeface.NORMAL))
            gravity = Gravity.CENTER
            minHeight = dp(context, 48)
            minimumHeight = dp(context, 48)
            val h = dp(context, 20)
            val v = dp(context, 10)
            setPadding(h, v, h, v)
            style(this, kind)
            setOnClickListener { onClick() }
            layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
                topMargin = dp(context, 12)
            }
        }

    fun style(b: Button, kind: ButtonKind) {
        val c = b.context
        val radius = dp(c, 24).toFloat()
        val (fill, textColor) = when (kind) {
            ButtonKind.PRIMARY -> color(c, R.color.accent) to color(c, R.color.on_accent)
            ButtonKind.DANGER -> color(c, R.color.danger) to color(c, R.color.on_danger)
            ButtonKind.OUTLINED -> color(c, R.color.surface) to color(c, R.color.accent)
        }
        val shape = if (kind == ButtonKind.OUTLINED) rounded(fill, radius, color(c, R.color.accent), dp(c, 1)) else rounded(fill, radius)
        b.background = RippleDrawable(ColorStateList.valueOf(0x33000000), shape, null)
        b.setTextColor(textColor)
    }

    /** A tappable list entry: optional icon, a title, an optional subtitle, and a chevron. */
    fun entry(context: Context, title: CharSequence, subtitle: CharSequence?, icon: Drawable? = null, onClick: (() -> Unit)?): LinearLayout {
        val row = LinearLayout(context).apply {
            orientation = LinearLayout.HORIZONTAL
            gravity = Gravity.CENTER_VERTICAL
            minimumHeight = dp(context, 56)
            val v = dp(context, 8)
            setPadding(0, v, 0, v)
            layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT)
        }
        if (icon != null) {
            val size = dp(context, 40)
            row.addView(
                ImageView(context).apply {
                    setImageDrawable(icon)
                    contentDescription = null
                },
                LinearLayout.LayoutParams(size, size).apply { marginEnd = dp(context, 16) },
            )
        }
        val texts = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
        texts.addView(text(context, title, Style.HEADING))
        if (!subtitle.isNullOrEmpty()) texts.addView(note(context, subtitle))
        row.addView(texts, LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f))
        if (onClick != null) {
            row.addView(text(context, "›", Style.TITLE).apply {
                setTextColor(color(context, R.color.text_secondary))
                layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
                    marginStart = dp(context, 8)
                }
                importantForAccessibility = View.IMPORTANT_FOR_ACCESSIBILITY_NO
            })
            row.background = selectable(context)
            row.isClickable = true
            row.setOnClickListener { onClick() }
        }
        return row
    }

    private fun selectable(context: Context): Drawable? {
        val tv = TypedValue()
        return if (context.theme.resolveAttribute(android.R.attr.selectableItemBackground, tv, true)) context.getDrawable(tv.resourceId) else null
    }

    fun divider(context: Context): View = View(context).apply {
        setBackgroundColor(color(context, R.color.divider))
        layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, maxOf(1, dp(context, 1)))
    }

    /** A number over its label, for the live counts and today's totals. */
    fun tile(context: Context, label: CharSequence): Pair<View, TextView> {
        val box = LinearLayout(context).apply {
            orientation = LinearLayout.VERTICAL
            val p = dp(context, 4)
            setPadding(0, p, p, p)
        }
        val value = text(context, "–", Style.TITLE)
        box.addView(value)
        box.addView(note(context, label))
        return box to value
    }

    /** Tiles two by two, so numbers keep their size on a narrow screen with large text. */
    fun grid(context: Context, tiles: List<View>): LinearLayout {
        val col = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
        for (pair in tiles.chunked(2)) {
            val row = LinearLayout(context).apply { orientation = LinearLayout.HORIZONTAL }
            for (t in pair) row.addView(t, LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f))
            if (pair.size == 1) row.addView(View(context), LinearLayout.LayoutParams(0, 0, 1f))
            col.addView(row)
        }
        return col
    }

    /** A small label on a tinted background: the company, the category. */
    fun chip(context: Context, text: CharSequence): TextView = TextView(context).apply {
        this.text = text
        setTextSize(TypedValue.COMPLEX_UNIT_SP, 13f)
        setTextColor(color(context, R.color.on_chip))
        background = rounded(color(context, R.color.chip), dp(context, 8).toFloat())
        val h = dp(context, 8)
        val v = dp(context, 3)
        setPadding(h, v, h, v)
        layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
            topMargin = dp(context, 4)
            bottomMargin = dp(context, 4)
        }
    }

    /** A round dot in [colorRes], beside the monitor's state. */
    fun dot(context: Context, colorRes: Int): View = View(context).apply {
        background = GradientDrawable().apply {
            shape = GradientDrawable.OVAL
            setColor(color(context, colorRes))
        }
        val s = dp(context, 12)
        layoutParams = LinearLayout.LayoutParams(s, s).apply { marginEnd = dp(context, 10) }
    }

    /** "Label" over a value, for the flow detail. */
    fun field(context: Context, label: CharSequence, value: CharSequence): View {
        val box = LinearLayout(context).apply {
            orientation = LinearLayout.VERTICAL
            setPadding(0, dp(context, 6), 0, dp(context, 6))
        }
        box.addView(note(context, label))
        box.addView(text(context, value))
        return box
    }

    /** A value that shows masked and reveals itself on tap (and hides again on the next). */
    fun revealable(context: Context, label: String, masked: String, clear: String): View {
        val box = LinearLayout(context).apply {
            orientation = LinearLayout.VERTICAL
            setPadding(0, dp(context, 6), 0, dp(context, 6))
        }
        box.addView(note(context, label))
        val value = mono(context, masked).apply { setTextColor(color(context, R.color.text_primary)) }
        box.addView(value)
        if (masked == clear) return box
        var shown = false
        box.isClickable = true
        box.background = selectable(context)
        box.contentDescription = context.getString(R.string.tap_to_reveal, label)
        box.setOnClickListener {
            shown = !shown
            value.text = if (shown) clear else masked
        }
        return box
    }

    /** The system bars (and cutout, and keyboard) that cover this window, per side. */
    @Suppress("DEPRECATION")
    fun bars(insets: WindowInsets): IntArray {
        if (Build.VERSION.SDK_INT >= 30) {
            val i = insets.getInsets(WindowInsets.Type.systemBars() or WindowInsets.Type.displayCutout() or WindowInsets.Type.ime())
            return intArrayOf(i.left, i.top, i.right, i.bottom)
        }
        return intArrayOf(insets.systemWindowInsetLeft, insets.systemWindowInsetTop, insets.systemWindowInsetRight, insets.systemWindowInsetBottom)
    }
}
