// The PhoneHome app: Kotlin on platform APIs only (no AndroidX) around the Rust core,
// which cargo builds here once per ABI (rust-core/jni -> libphonehome_jni.so).
// Build from the repository root: ./gradlew :android-app:assembleDebug (README, "Building the APK").

import javax.inject.Inject
import org.gradle.process.ExecOperations

plugins {
    // Kotlin is compiled by the Android Gradle Plugin itself (built-in Kotlin, AGP 9+);
    // the Kotlin version comes from the root build (libs.versions.toml).
    alias(libs.plugins.android.application)
}

// Android ABI -> Rust target triple, and the prefix of the NDK's clang wrapper for it.
data class RustAbi(val abi: String, val triple: String, val clangTarget: String)

val rustAbis = listOf(
    RustAbi("arm64-v8a", "aarch64-linux-android", "aarch64-linux-android"),
    RustAbi("armeabi-v7a", "armv7-linux-androideabi", "armv7a-linux-androideabi"),
    RustAbi("x86_64", "x86_64-linux-android", "x86_64-linux-android"),
)

android {
    namespace = "org.phonehome"
    compileSdk = libs.versions.compileSdk.get().toInt()
    ndkVersion = libs.versions.ndk.get()

    defaultConfig {
        applicationId = "org.phonehome"
        // gradle/libs.versions.toml: the SDK-free build (android-app/build-apk) reads the same.
        minSdk = libs.versions.minSdk.get().toInt()
        targetSdk = libs.versions.targetSdk.get().toInt()
        versionCode = libs.versions.versionCode.get().toInt()
        versionName = libs.versions.versionName.get()
        ndk {
            abiFilters += rustAbis.map { it.abi }
        }
    }

    buildTypes {
        getByName("release") {
            // Off: the bridge is found by name from native code (JNI). proguard-rules.pro
            // keeps org.phonehome.core.** for whoever turns shrinking on.
            isMinifyEnabled = false
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
            // Signing is left to the builder (assembleDebug signs with the debug key).
        }
    }

    // Robolectric tests load the app's resources (AGP writes test_config.properties for them).
    testOptions {
        unitTests.isIncludeAndroidResources = true
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") {
            java.srcDir("src/main/java")
            // The records store's schema (phonehome.sql), the same file the Rust store reads:
            // that folder holds nothing else, so it is the app's assets folder as it is.
            assets.srcDir("../rust-core/store/schema")
            // jniLibs: the cargo outputs, added per variant below (androidComponents).
        }
        getByName("test") {
            java.srcDir("src/test/java")
        }
    }
}

dependencies {
    implementation(libs.kotlin.stdlib)
    testImplementation(libs.junit)
    testImplementation(libs.robolectric)
}

/**
 * `cargo build --release -p phonehome-jni --target TRIPLE` from the repository root, with
 * the NDK's clang as linker (and as C compiler, should a dependency ever compile C), then
 * copies `libphonehome_jni.so` to [outputDir]. Cargo decides itself what is up to date,
 * so the task always runs it.
 */
abstract class CargoNdkBuild : DefaultTask() {
    @get:Input abstract val abi: Property<String>
    @get:Input abstract val triple: Property<String>
    @get:Input abstract val clangTarget: Property<String>
    @get:Input abstract val apiLevel: Property<Int>
    @get:Input abstract val cargo: Property<String>
    @get:Internal abstract val ndkDirectory: DirectoryProperty
    @get:Internal abstract val workspace: DirectoryProperty
    @get:Internal abstract val cargoTargetDir: DirectoryProperty
    @get:OutputDirectory abstract val outputDir: DirectoryProperty

    @get:Inject abstract val execOps: ExecOperations
    @get:Inject abstract val fsOps: FileSystemOperations

    init {
        outputs.upToDateWhen { false }
    }

    @TaskAction
    fun build() {
        val ndk = ndkDirectory.get().asFile
        val os = System.getProperty("os.name").lowercase()
        val (hostTag, clangSuffix, exeSuffix) = when {
            os.contains("linux") -> Triple("linux-x86_64", "", "")
            os.contains("mac") -> Triple("darwin-x86_64", "", "")
            os.contains("windows") -> Triple("windows-x86_64", ".cmd", ".exe")
            else -> throw GradleException("no NDK toolchain for host OS '$os'")
        }
        val bin = ndk.resolve("toolchains/llvm/prebuilt/$hostTag/bin")
        val clang = bin.resolve("${clangTarget.get()}${apiLevel.get()}-clang$clangSuffix")
        val ar = bin.resolve("llvm-ar$exeSuffix")
        if (!clang.isFile) {
            throw GradleException("NDK clang not found: $clang (is NDK ${ndk.name} installed? see README)")
        }
        val t = triple.get()
        val envTriple = t.replace('-', '_')
        val targetDir = cargoTargetDir.get().asFile
        execOps.exec {
            workingDir = workspace.get().asFile
            commandLine(
                cargo.get(), "build", "--release", "--locked",
                "-p", "phonehome-jni", "--target", t,
                "--target-dir", targetDir.absolutePath,
            )
            environment("CARGO_TARGET_${envTriple.uppercase()}_LINKER", clang.absolutePath)
            environment("CC_$envTriple", clang.absolutePath)
            environment("AR_$envTriple", ar.absolutePath)
        }
        val lib = targetDir.resolve("$t/release/libphonehome_jni.so")
        if (!lib.isFile) throw GradleException("cargo did not produce $lib")
        fsOps.sync {
            from(lib)
            into(outputDir)
        }
    }
}

/** Lays the per-ABI libraries out as a jniLibs directory (ABI/libphonehome_jni.so) for one variant. */
abstract class CollectRustJniLibs : DefaultTask() {
    @get:InputFiles
    @get:PathSensitive(PathSensitivity.RELATIVE)
    abstract val abiDirs: ConfigurableFileCollection

    @get:OutputDirectory abstract val outputDir: DirectoryProperty

    @get:Inject abstract val fsOps: FileSystemOperations

    @TaskAction
    fun collect() {
        fsOps.sync {
            into(outputDir)
            abiDirs.files.forEach { dir -> from(dir) { into(dir.name) } }
        }
    }
}

val repoRoot = rootProject.layout.projectDirectory
val cargoCommand = providers.gradleProperty("phonehome.cargo")
    .orElse(providers.environmentVariable("CARGO"))
    .orElse(
        providers.systemProperty("user.home").map { home ->
            val rustupCargo = File(home, ".cargo/bin/cargo")
            if (rustupCargo.isFile) rustupCargo.absolutePath else "cargo"
        },
    )
val rustTargetDir = providers.environmentVariable("CARGO_TARGET_DIR")
    .map { repoRoot.dir(it) }
    .orElse(repoRoot.dir("target"))

val cargoTasks = rustAbis.map { r ->
    val suffix = r.abi.split('-', '_').joinToString("") { part -> part.replaceFirstChar { it.uppercase() } }
    tasks.register<CargoNdkBuild>("cargoBuild$suffix") {
        group = "build"
        description = "Builds libphonehome_jni.so for ${r.abi} (${r.triple}) with cargo and the NDK."
        abi.set(r.abi)
        triple.set(r.triple)
        clangTarget.set(r.clangTarget)
        // The NDK's clang wrapper for minSdk: the library links against that API level.
        apiLevel.set(checkNotNull(android.defaultConfig.minSdk) { "android.defaultConfig.minSdk is not set" })
        cargo.set(cargoCommand)
        ndkDirectory.set(androidComponents.sdkComponents.ndkDirectory)
        workspace.set(repoRoot)
        cargoTargetDir.set(rustTargetDir)
        outputDir.set(layout.buildDirectory.dir("rustJniLibs/${r.abi}"))
    }
}

androidComponents {
    onVariants { variant ->
        val variantName = variant.name.replaceFirstChar { it.uppercase() }
        val collect = tasks.register<CollectRustJniLibs>("collectRustJniLibs$variantName") {
            description = "Gathers the cargo-built libphonehome_jni.so of every ABI for ${variant.name}."
            cargoTasks.forEach { task -> abiDirs.from(task.flatMap { it.outputDir }) }
        }
        // A generated source directory: AGP wires the dependency into every task that
        // reads jniLibs (merge<Variant>JniLibFolders and the rest).
        checkNotNull(variant.sources.jniLibs) { "no jniLibs sources for ${variant.name}" }
            .addGeneratedSourceDirectory(collect, CollectRustJniLibs::outputDir)
    }
}
