// API 26 (java/nio/file/Path since="26"). No member of it is used yet; Path.of is API 34.
package java.nio.file;

public interface Path {}
