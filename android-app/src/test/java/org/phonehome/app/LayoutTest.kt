package org.phonehome.app

import org.junit.Assert.assertEquals
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode

/**
 * Every screen at 360 and 411 dp, light and dark, font scale 1.3, on the three kinds of
 * window Android gives an app: API 28 (the decor consumes the system bars; the old insets
 * API), API 34 (the same, with WindowInsets.Type) and API 36 (edge to edge, enforced for
 * apps targeting 35+). Nothing may sit under the status bar, the app bar or the navigation
 * bar, no text may be cut with "…", and every text must reach 4.5:1 contrast.
 *
 * Here the records are whatever this JVM's store holds (none, unless the core's library is
 * on java.library.path): tests/e2e/test_app_screens.py runs the same checks over the
 * records of a real session (LiveSessionTest).
 */
@RunWith(RobolectricTestRunner::class)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
@Config(sdk = [28, 34, 36])
class LayoutTest {
    @Test
    fun `every screen keeps clear of the bars, fits its text and reads at 4_5 to 1`() {
        // android-app/screenshots asks for one look of one screen per API level.
        val only = System.getProperty("phonehome.screenshots.only")
        val problems = Renders.checkAll(
            Renders.screens(app = "org.example.curl", flow = 1L, session = null),
            write = { screen, look -> only == null || only == "$screen-${look.name}" },
        )
        assertEquals(problems.joinToString("\n"), 0, problems.size)
    }
}
