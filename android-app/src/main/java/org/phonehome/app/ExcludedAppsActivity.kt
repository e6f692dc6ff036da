package org.phonehome.app

import android.app.Activity
import android.os.Bundle
import android.widget.ArrayAdapter
import android.widget.ListView
import org.phonehome.R

/**
 * Apps whose traffic bypasses the monitor (addDisallowedApplication): for apps that break
 * behind a VPN, or that the user does not want watched. PhoneHome itself is always excluded.
 */
class ExcludedAppsActivity : Activity() {
    private lateinit var store: Store
    private lateinit var listView: ListView
    private var apps: List<Pair<String, String>> = emptyList()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setTitle(R.string.excluded_title)
        store = Store(this)
        listView = ListView(this)
        listView.choiceMode = ListView.CHOICE_MODE_MULTIPLE
        Ui.fitSystemBars(listView)
        setContentView(listView)
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
