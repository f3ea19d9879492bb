// API 26 (java/nio/file/Files since="26"; these members carry no later since).
// Why these classes: android_app/README.md, "minSdk 26, checked".
package java.nio.file;

import java.io.IOException;
import java.nio.charset.Charset;
import java.util.List;

public final class Files {
    private Files() {}

    public static boolean deleteIfExists(Path path) throws IOException { throw new IOException(); }

    public static Path move(Path source, Path target, CopyOption... options) throws IOException { throw new IOException(); }

    public static byte[] readAllBytes(Path path) throws IOException { throw new IOException(); }

    public static List<String> readAllLines(Path path, Charset cs) throws IOException { throw new IOException(); }

    public static Path write(Path path, byte[] bytes, OpenOption... options) throws IOException { throw new IOException(); }
}
