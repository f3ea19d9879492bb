package android.content; public class Context { public static final String POWER_SERVICE = "power"; public Object getSystemService(String n) { return null; }
public java.io.File getExternalFilesDir(String t) { return null; } }
