package org.phonehome.app

import android.view.View
import android.view.ViewGroup
import android.widget.TextView
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.R
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner

/**
 * The app's code on Android 16's framework (Robolectric), with the resources of the app's
 * one aapt step: the status screen opens and its title is on screen.
 */
@RunWith(RobolectricTestRunner::class)
class StatusActivitySmokeTest {
    @Test
    fun `the status screen opens and shows the app's title in the action bar`() {
        Robolectric.buildActivity(StatusActivity::class.java).setup().use { controller ->
            val activity = controller.get()
            // R.string.app_name was inlined by Kotlin: it names the right string only if R
            // comes from the same aapt run as the resources Robolectric loaded.
            assertEquals("PhoneHome", activity.getString(R.string.app_name))
            assertEquals("PhoneHome", activity.title.toString())
            assertTrue("the action bar is showing", activity.actionBar?.isShowing == true)
            val titles = textViews(activity.window.decorView).filter { it.text.toString() == "PhoneHome" }
            assertTrue("a TextView reads PhoneHome", titles.isNotEmpty())
            assertTrue("the title is shown, not just present", titles.any { it.isShown && it.width > 0 && it.height > 0 })
        }
    }

    private fun textViews(view: View): List<TextView> = when (view) {
        is TextView -> listOf(view)
        is ViewGroup -> (0 until view.childCount).flatMap { textViews(view.getChildAt(it)) }
        else -> emptyList()
    }
}
