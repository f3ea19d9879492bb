package android.os; public class Build { public static String[] SUPPORTED_ABIS; public static String SOC_MANUFACTURER, SOC_MODEL, HARDWARE, MANUFACTURER, MODEL;
public static class VERSION { public static int SDK_INT; public static String RELEASE; }
public static class VERSION_CODES { public static final int O_MR1 = 27, Q = 29, S = 31; } }
