package com.edgebench.runner.core;

import java.nio.charset.StandardCharsets;

/** One cell: variant x delegate x threads x API. ``id()`` names its result file, as in Python. */
public final class CellKey {
    public final String variant;
    public final String delegate;
    public final int threads;
    public final String api;

    public CellKey(String variant, String delegate, int threads, String api) {
        this.variant = variant;
        this.delegate = delegate;
        this.threads = threads;
        this.api = api;
    }

    /** File-name-safe and stable across runs; a slug that changed the spec gets a hash to keep specs apart. */
    public String id() {
        String slug = delegate.replaceAll("[^A-Za-z0-9_-]+", "_").replaceAll("^_+|_+$", "");
        if (!slug.equals(delegate)) {
            slug += "-" + Hashes.sha256(delegate.getBytes(StandardCharsets.UTF_8)).substring(0, 8);
        }
        return variant + "." + slug + "." + api + ".t" + threads;
    }
}
