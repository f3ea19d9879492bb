// API 26 (java/nio/file/CopyOption since="26").
package java.nio.file;

public interface CopyOption {}
