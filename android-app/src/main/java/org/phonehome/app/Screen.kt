package org.phonehome.app

import android.app.Activity
import android.content.Intent
import android.content.res.Configuration
import android.util.TypedValue
import android.view.ContextThemeWrapper
import android.view.MenuItem
import android.view.View
import android.view.ViewGroup
import android.widget.FrameLayout
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import android.widget.Toolbar
import org.phonehome.R

/**
 * What every screen shares: an app bar of its own (a platform Toolbar; the theme has no
 * window action bar) over the content, both kept clear of the system bars.
 *
 * Why by hand: apps targeting API 35+ are drawn edge to edge on Android 15+, under the
 * status and navigation bars, and the platform action bar then covers the content. Below
 * 35 the window's decor consumes those insets itself and the listener gets zeros, so the
 * same code is right on every level from 24 to 36.
 */
abstract class Screen : Activity() {
    /** The bar at the top, with the title; tests and screenshots find it by this id. */
    lateinit var appBar: View
        private set
    private lateinit var titleView: TextView

    /** Where the screen's own views go (inside a ScrollView unless [scrolls] was false). */
    lateinit var body: FrameLayout
        private set

    /** Lays out the app bar and [content]; [up] shows the back arrow. */
    protected fun setScreen(title: CharSequence, content: View, scrolls: Boolean = true, up: Boolean = true) {
        val root = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        val night = (resources.configuration.uiMode and Configuration.UI_MODE_NIGHT_MASK) == Configuration.UI_MODE_NIGHT_YES
        // The bar is dark in both themes: its icons (back arrow, overflow) must be light.
        val barContext = ContextThemeWrapper(this, android.R.style.ThemeOverlay_Material_Dark_ActionBar)
        val toolbar = Toolbar(barContext).apply {
            popupTheme = if (night) android.R.style.ThemeOverlay_Material_Dark else android.R.style.ThemeOverlay_Material_Light
        }
        // The title is our own TextView: the Toolbar's would cut a long title with "…";
        // this one wraps to a second line instead.
        titleView = TextView(this).apply {
            text = title
            setTextSize(TypedValue.COMPLEX_UNIT_SP, 20f)
            setTextColor(Ui.color(this@Screen, R.color.on_app_bar))
            typeface = android.graphics.Typeface.create("sans-serif-medium", android.graphics.Typeface.NORMAL)
            id = R.id.screen_title
        }
        toolbar.addView(titleView, Toolbar.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT))
        val bar = FrameLayout(this).apply {
            setBackgroundColor(Ui.color(this@Screen, R.color.app_bar))
            id = R.id.app_bar
            addView(toolbar, FrameLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT))
        }
        appBar = bar
        body = FrameLayout(this).apply { id = R.id.screen_body }
        if (scrolls) {
            val scroll = ScrollView(this).apply { isFillViewport = true }
            scroll.addView(content, ViewGroup.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT))
            body.addView(scroll, FrameLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.MATCH_PARENT))
        } else {
            body.addView(content, FrameLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.MATCH_PARENT))
        }
        root.addView(bar, LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT))
        root.addView(body, LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, 0, 1f))
        root.setOnApplyWindowInsetsListener { _, insets ->
            val (left, top, right, bottom) = Ui.bars(insets).toList()
            bar.setPadding(left, top, right, 0)
            body.setPadding(left, 0, right, bottom)
            insets
        }
        setContentView(root)
        setActionBar(toolbar)
        actionBar?.setDisplayShowTitleEnabled(false)
        actionBar?.setDisplayHomeAsUpEnabled(up)
    }

    override fun setTitle(title: CharSequence?) {
        super.setTitle(title)
        if (::titleView.isInitialized) titleView.text = title
    }

    override fun onOptionsItemSelected(item: MenuItem): Boolean {
        if (item.itemId != android.R.id.home) return super.onOptionsItemSelected(item)
        // Opened from a notification, a screen may be the task's first: go to the status screen then.
        if (isTaskRoot) startActivity(Intent(this, StatusActivity::class.java))
        finish()
        return true
    }
}
