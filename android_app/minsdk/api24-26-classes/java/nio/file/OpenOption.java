// API 26 (java/nio/file/OpenOption since="26").
package java.nio.file;

public interface OpenOption {}
