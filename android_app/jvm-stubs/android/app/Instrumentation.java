package android.app; import android.os.Bundle; import android.content.Context;
public class Instrumentation { public void onCreate(Bundle a) {} public void start() {} public void onStart() {}
public void finish(int code, Bundle b) {} public void sendStatus(int code, Bundle b) {} public Context getTargetContext() { return null; } }
