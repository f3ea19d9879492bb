// API 26 (java/nio/file/StandardCopyOption since="26", all three constants).
package java.nio.file;

public enum StandardCopyOption implements CopyOption { ATOMIC_MOVE, COPY_ATTRIBUTES, REPLACE_EXISTING }
