package android.os; public class PowerManager { public int getCurrentThermalStatus() { return 0; } }
