package com.edgebench.runner.core;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;

/** Write via a temp file in the same folder, fsync, then rename: the host never pulls half a file. */
public final class AtomicFiles {
    private AtomicFiles() {}

    public static void write(File target, String content) throws IOException {
        File folder = target.getAbsoluteFile().getParentFile();
        if (!folder.isDirectory() && !folder.mkdirs()) {
            throw new IOException("cannot create " + folder);
        }
        // A leading dot: the host lists results ending in .json and skips dot-files.
        File temp = File.createTempFile("." + target.getName() + ".", ".tmp", folder);
        try (FileOutputStream out = new FileOutputStream(temp)) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
            out.getFD().sync();
        } catch (IOException e) {
            Files.deleteIfExists(temp.toPath());
            throw e;
        }
        // ATOMIC_MOVE needs java.nio.file: Android API 26, hence the app's minSdk.
        Files.move(temp.toPath(), target.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
