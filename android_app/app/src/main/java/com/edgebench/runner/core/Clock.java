package com.edgebench.runner.core;

/** A monotonic nanosecond clock: System.nanoTime on the phone, a scripted one in tests. */
public interface Clock {
    long nanoTime();

    Clock SYSTEM = System::nanoTime;
}
