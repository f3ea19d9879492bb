// API 26 (java/time/Instant since="26"; now() and truncatedTo(TemporalUnit) carry no later since).
package java.time;

import java.time.temporal.TemporalUnit;

public final class Instant {
    private Instant() {}

    public static Instant now() { return null; }

    public Instant truncatedTo(TemporalUnit unit) { return this; }
}
