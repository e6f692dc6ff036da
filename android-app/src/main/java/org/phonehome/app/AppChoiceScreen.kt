package org.phonehome.app

import android.os.Bundle
import android.widget.ArrayAdapter
import android.widget.LinearLayout
import android.widget.ListView
import org.phonehome.R
import org.phonehome.model.Settings

/**
 * A list of the installed apps to check some of, kept in the settings when the screen is
 * left: the apps not monitored, the apps seen inside HTTPS.
 */
abstract class AppChoiceScreen : Screen() {
    private lateinit var store: Store
    private lateinit var listView: ListView
    private var apps: List<Pair<String, String>> = emptyList()

    protected abstract val title: Int
    protected abstract val explanation: Int
    protected abstract fun chosen(settings: Settings): Set<String>
    protected abstract fun choose(settings: Settings, packages: Set<String>): Settings

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        store = Store(this)
        val p = Ui.dp(this, 16)
        listView = ListView(this).apply {
            choiceMode = ListView.CHOICE_MODE_MULTIPLE
            divider = android.graphics.drawable.ColorDrawable(Ui.color(this@AppChoiceScreen, R.color.divider))
            dividerHeight = maxOf(1, Ui.dp(this@AppChoiceScreen, 1))
            setPadding(p, 0, p, 0)
        }
        val root = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        root.addView(Ui.note(this, getString(explanation)).apply { setPadding(p, p, p, p / 2) })
        root.addView(listView, LinearLayout.LayoutParams(android.view.ViewGroup.LayoutParams.MATCH_PARENT, 0, 1f))
        setScreen(getString(title), root, scrolls = false)
        phoneHome.worker.query({ AppNames.installed(applicationContext) }) { result, _ ->
            if (isDestroyed || result == null) return@query
            apps = result
            listView.adapter = ArrayAdapter(
                this, android.R.layout.simple_list_item_multiple_choice,
                result.map { (pkg, label) -> "$label\n$pkg" },
            )
            val checked = chosen(store.settings())
            result.forEachIndexed { i, (pkg, _) -> listView.setItemChecked(i, pkg in checked) }
        }
    }

    override fun onPause() {
        if (apps.isNotEmpty()) {
            val checked = listView.checkedItemPositions
            val packages = apps.indices.filter { checked.get(it) }.map { apps[it].first }.toSet()
            store.saveSettings(choose(store.settings(), packages))
        }
        super.onPause()
    }
}

/**
 * Apps whose traffic bypasses the monitor (addDisallowedApplication): for apps that break
 * behind a VPN, or that the user does not want watched. PhoneHome itself is always excluded.
 */
class ExcludedAppsActivity : AppChoiceScreen() {
    override val title = R.string.excluded_title
    override val explanation = R.string.excluded_explained
    override fun chosen(settings: Settings) = settings.excludedApps
    override fun choose(settings: Settings, packages: Set<String>) = settings.copy(excludedApps = packages)
}

/** Apps whose HTTPS the monitor sees inside while "See inside HTTPS" is on. */
class InterceptedAppsActivity : AppChoiceScreen() {
    override val title = R.string.intercept_apps_title
    override val explanation = R.string.intercept_apps_explained
    override fun chosen(settings: Settings) = settings.interceptedApps
    override fun choose(settings: Settings, packages: Set<String>) = settings.copy(interceptedApps = packages)
}
