// API 26 (java/time/temporal/TemporalUnit since="26").
package java.time.temporal;

public interface TemporalUnit {}
