package org.phonehome.app

import android.os.Bundle
import android.widget.ArrayAdapter
import android.widget.ListView
import org.phonehome.R

/**
 * Apps whose traffic bypasses the monitor (addDisallowedApplication): for apps that break
 * behind a VPN, or that the user does not want watched. PhoneHome itself is always excluded.
 */
class ExcludedAppsActivity : Screen() {
    private lateinit var store: Store
    private lateinit var listView: ListView
    private var apps: List<Pair<String, String>> = emptyList()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        store = Store(this)
        val p = Ui.dp(this, 16)
        listView = ListView(this).apply {
            choiceMode = ListView.CHOICE_MODE_MULTIPLE
            divider = android.graphics.drawable.ColorDrawable(Ui.color(this@ExcludedAppsActivity, R.color.divider))
            dividerHeight = maxOf(1, Ui.dp(this@ExcludedAppsActivity, 1))
            setPadding(p, 0, p, 0)
        }
        val root = android.widget.LinearLayout(this).apply { orientation = android.widget.LinearLayout.VERTICAL }
        root.addView(Ui.note(this, getString(R.string.excluded_explained)).apply { setPadding(p, p, p, p / 2) })
        root.addView(listView, android.widget.LinearLayout.LayoutParams(android.view.ViewGroup.LayoutParams.MATCH_PARENT, 0, 1f))
        setScreen(getString(R.string.excluded_title), root, scrolls = false)
        phoneHome.worker.query({ AppNames.installed(applicationContext) }) { result, _ ->
            if (isDestroyed || result == null) return@query
            apps = result
            listView.adapter = ArrayAdapter(
                this, android.R.layout.simple_list_item_multiple_choice,
                result.map { (pkg, label) -> "$label\n$pkg" },
            )
            val excluded = store.settings().excludedApps
            result.forEachIndexed { i, (pkg, _) -> listView.setItemChecked(i, pkg in excluded) }
        }
    }

    override fun onPause() {
        if (apps.isNotEmpty()) {
            val checked = listView.checkedItemPositions
            val excluded = apps.indices.filter { checked.get(it) }.map { apps[it].first }.toSet()
            store.saveSettings(store.settings().copy(excludedApps = excluded))
        }
        super.onPause()
    }
}
