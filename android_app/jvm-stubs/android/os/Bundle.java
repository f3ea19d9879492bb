package android.os; public class Bundle { public String getString(String k) { return null; } public void putString(String k, String v) {}
public void putInt(String k, int v) {} public void putBoolean(String k, boolean v) {} public void putLong(String k, long v) {} }
