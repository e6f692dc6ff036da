package org.phonehome.app

import android.content.ContentProvider
import android.content.ContentValues
import android.content.Context
import android.content.Intent
import android.database.Cursor
import android.database.MatrixCursor
import android.net.Uri
import android.os.ParcelFileDescriptor
import android.provider.OpenableColumns
import java.io.File
import java.io.FileNotFoundException
import org.phonehome.R
import org.phonehome.core.NativeCore

/**
 * Hands exported records to the app the user shares them with, read-only and only through
 * the per-share URI grant (not exported, grantUriPermissions): a tiny stand-in for
 * AndroidX's FileProvider that serves files of cacheDir/exports and nothing else.
 */
class ExportProvider : ContentProvider() {
    companion object {
        const val AUTHORITY = "org.phonehome.exports"

        fun dir(context: Context): File = File(context.cacheDir, "exports").also { it.mkdirs() }

        fun uriFor(file: File): Uri = Uri.Builder().scheme("content").authority(AUTHORITY).appendPath(file.name).build()

        fun mimeOf(name: String): String = when {
            name.endsWith(".jsonl") -> "application/x-ndjson"
            name.endsWith(".pcapng") -> "application/vnd.tcpdump.pcap"
            // What Android's certificate installer opens (DER), and PEM for computers.
            name.endsWith(".crt") -> "application/x-x509-ca-cert"
            name.endsWith(".pem") -> "application/x-pem-file"
            else -> "application/octet-stream"
        }
    }

    override fun onCreate(): Boolean = true

    /** Only a plain file name directly inside the exports folder; never a path. */
    private fun fileFor(uri: Uri): File {
        val segments = uri.pathSegments
        val name = segments.singleOrNull() ?: throw FileNotFoundException("no such export")
        if (name.startsWith(".") || '/' in name || !Regex("[A-Za-z0-9._-]+").matches(name)) throw FileNotFoundException("no such export")
        val ctx = context ?: throw FileNotFoundException("no context")
        val f = File(dir(ctx), name)
        if (!f.isFile) throw FileNotFoundException("no such export")
        return f
    }

    override fun openFile(uri: Uri, mode: String): ParcelFileDescriptor {
        if (mode != "r") throw SecurityException("exports are read-only")
        return ParcelFileDescriptor.open(fileFor(uri), ParcelFileDescriptor.MODE_READ_ONLY)
    }

    override fun getType(uri: Uri): String = mimeOf(uri.lastPathSegment ?: "")

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, selectionArgs: Array<out String>?, sortOrder: String?): Cursor {
        val f = fileFor(uri)
        val columns = projection ?: arrayOf(OpenableColumns.DISPLAY_NAME, OpenableColumns.SIZE)
        val cursor = MatrixCursor(columns, 1)
        cursor.addRow(columns.map { c ->
            when (c) {
                OpenableColumns.DISPLAY_NAME -> f.name
                OpenableColumns.SIZE -> f.length()
                else -> null
            }
        })
        return cursor
    }

    override fun insert(uri: Uri, values: ContentValues?): Uri? = throw UnsupportedOperationException("read-only")
    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int = throw UnsupportedOperationException("read-only")
    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int =
        throw UnsupportedOperationException("read-only")
}

/**
 * Writes one export and offers it through the share sheet: the JSON lines from the app's
 * records store, the capture (which the core keeps in [recordsDir]) with the core.
 */
object Exporter {
    enum class Format(val table: RecordStore.Table?, val extension: String) {
        FINDINGS(RecordStore.Table.FINDINGS, "findings.jsonl"),
        FLOWS(RecordStore.Table.FLOWS, "flows.jsonl"),
        PCAPNG(null, "pcapng"),
    }

    /** Runs on the worker; returns the file written. Older exports are removed first (they may be large). */
    fun write(context: Context, recordsDir: String, format: Format): File {
        val app = context.phoneHome
        if (format.table == null) app.worker.requireCore()
        val dir = ExportProvider.dir(context)
        dir.listFiles()?.forEach { it.delete() }
        val stamp = org.phonehome.model.Format.rfc3339(System.currentTimeMillis()).take(19).replace(":", "").replace("-", "")
        val file = File(dir, "phonehome-$stamp.${format.extension}")
        val table = format.table
        if (table != null) {
            file.outputStream().buffered().use { app.records.exportJsonl(table, it) }
        } else {
            ParcelFileDescriptor.open(file, ParcelFileDescriptor.MODE_CREATE or ParcelFileDescriptor.MODE_TRUNCATE or ParcelFileDescriptor.MODE_WRITE_ONLY).use { pfd ->
                NativeCore.exportCapture(recordsDir, pfd.fd)
            }
        }
        return file
    }

    fun share(context: Context, file: File) {
        val uri = ExportProvider.uriFor(file)
        val send = Intent(Intent.ACTION_SEND)
            .setType(ExportProvider.mimeOf(file.name))
            .putExtra(Intent.EXTRA_STREAM, uri)
            .putExtra(Intent.EXTRA_SUBJECT, file.name)
            .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
        // ClipData carries the grant through the chooser to the chosen app.
        send.clipData = android.content.ClipData.newRawUri(file.name, uri)
        context.startActivity(Intent.createChooser(send, context.getString(R.string.share_title)).addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION))
    }
}
