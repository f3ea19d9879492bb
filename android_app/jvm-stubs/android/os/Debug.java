package android.os; public class Debug { public static long getNativeHeapAllocatedSize() { return 0; } }
