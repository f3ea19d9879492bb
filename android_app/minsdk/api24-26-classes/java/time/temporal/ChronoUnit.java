// API 26 (java/time/temporal/ChronoUnit since="26", every constant).
package java.time.temporal;

public enum ChronoUnit implements TemporalUnit {
    NANOS, MICROS, MILLIS, SECONDS, MINUTES, HOURS, HALF_DAYS, DAYS, WEEKS, MONTHS, YEARS, DECADES, CENTURIES,
    MILLENNIA, ERAS, FOREVER
}
