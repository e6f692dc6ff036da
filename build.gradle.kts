plugins {
    alias(libs.plugins.android.application) apply false
    // Android Gradle Plugin 9 compiles Kotlin itself ("built-in Kotlin") and refuses the
    // kotlin-android plugin in a module. Declared here and not applied, it only puts the
    // Kotlin Gradle plugin of libs.versions.toml (the Kotlin that android-app/host-checks
    // compiles the app with) on the build classpath, in place of the older one AGP brings.
    alias(libs.plugins.kotlin.android) apply false
}
